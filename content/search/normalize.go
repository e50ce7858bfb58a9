package search

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
)

// normalizer turns text into the one form both content and questions are
// compared in: half-width, lower case, simplified characters, Arabic years,
// canonical grade names, punctuation as spaces. It is immutable after
// construction and safe for concurrent use.
type normalizer struct {
	t2s  *opencc.OpenCC
	trad map[rune]bool // characters the converter changes on their own
}

var (
	tradOnce sync.Once
	tradSet  map[rune]bool
)

func newNormalizer() (*normalizer, error) {
	cc, err := opencc.New("t2s")
	if err != nil {
		return nil, fmt.Errorf("search: traditional→simplified converter: %w", err)
	}
	// The converter is slow on long text; knowing which characters are
	// traditional lets simplified text (all content, most questions) skip it.
	tradOnce.Do(func() {
		tradSet = map[rune]bool{}
		const chunk = 512
		var rs []rune
		for r := rune(0x4E00); r <= 0x9FFF; r++ {
			rs = append(rs, r)
			if len(rs) == chunk || r == 0x9FFF {
				for _, c := range rs {
					if out, err := cc.Convert(string(c)); err == nil && out != string(c) {
						tradSet[c] = true
					}
				}
				rs = rs[:0]
			}
		}
	})
	return &normalizer{t2s: cc, trad: tradSet}, nil
}

// hasTrad reports whether s holds a traditional character.
func (n *normalizer) hasTrad(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && n.trad[r] {
			return true
		}
	}
	return false
}

// foldWidth maps full-width ASCII and the ideographic space to their
// half-width forms and lower-cases Latin letters.
func foldWidth(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\u3000':
			r = ' '
		case r >= '\uff01' && r <= '\uff5e':
			r -= 0xfee0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// hasNonASCII reports whether s needs the (slower) character conversion.
func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// Normalize returns the normalised form of s (see normalizer).
func (n *normalizer) Normalize(s string) string {
	s = foldWidth(s)
	if n != nil && n.t2s != nil && hasNonASCII(s) && n.hasTrad(s) {
		if t, err := n.t2s.Convert(s); err == nil {
			s = t
		}
	}
	s = chineseYears(s)
	s = canonicalGrades(s)
	s = foldAnotA(s)
	return cleanPunct(s)
}

// foldAnotA turns the spoken yes-no form "A不A…" / "A没A…" into "A…":
// 放不放假 → 放假, 收不收钱 → 收钱, 有没有 → 有.
func foldAnotA(s string) string {
	if !strings.Contains(s, "不") && !strings.Contains(s, "没") {
		return s
	}
	rs := []rune(s)
	out := rs[:0:0]
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && (rs[i+1] == '不' || rs[i+1] == '没') && rs[i+2] == rs[i] && isCJK(rs[i]) {
			out = append(out, rs[i])
			i += 2
			continue
		}
		out = append(out, rs[i])
	}
	return string(out)
}

// cleanPunct replaces punctuation and symbols with single spaces.
func cleanPunct(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) || unicode.IsControl(r) {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimSpace(b.String())
}

var cnDigit = map[rune]byte{'〇': '0', '零': '0', 'o': '0', '一': '1', '二': '2', '三': '3', '四': '4', '五': '5', '六': '6', '七': '7', '八': '8', '九': '9'}

// chineseYears turns four Chinese digits that form a plausible year into
// Arabic digits (二〇二六 → 2026); other runs such as 一二三四 stay.
func chineseYears(s string) string {
	// Years start 二〇/二零 or 一九; anything else is not worth the scan.
	if !strings.Contains(s, "二〇") && !strings.Contains(s, "二零") && !strings.Contains(s, "一九") {
		return s
	}
	return chineseYearRuns(s, func(m string) string {
		var d []byte
		for _, r := range m {
			d = append(d, cnDigit[r])
		}
		if (d[0] == '1' && d[1] == '9') || (d[0] == '2' && d[1] == '0') {
			return string(d)
		}
		return m
	})
}

var (
	numCN = map[string]string{"1": "一", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七", "8": "八", "9": "九",
		"一": "一", "二": "二", "三": "三", "四": "四", "五": "五", "六": "六", "七": "七", "八": "八", "九": "九"}
	juniorOf = map[string]string{"七": "一", "八": "二", "九": "三"}

	// Order matters: the longer, more specific forms first.
	gradeMiddleWords = newWordSet(`(初中|高中)([1-3一二三])年级|(初|高)([1-3])`)
	gradeNumWords    = newWordSet(`(小学)?([1-9一二三四五六七八九])\s?年级`)
	shortGradeHint   = newWordSet(`小[1-6一二三四五六]`)
	shortMiddleHint  = newWordSet(`[初高][1-3]`)
	gradeShortWords  = newWordSet(`小([1-6一二三四五六])(年级|学生|新生|的|孩子|$|\s)`)
)

// canonicalGrades rewrites grade names to one form: 一年级…六年级 for
// primary school, 初一…初三 and 高一…高三 for secondary (九年级 = 初中三年级
// = 初3 = 初三; 1年级 = 小学一年级 = 小一 = 一年级).
func canonicalGrades(s string) string {
	if !strings.ContainsAny(s, "年级初高小") {
		return s
	}
	s = strings.ReplaceAll(s, "小升初", "小升初 初一")
	s = strings.ReplaceAll(s, "幼升小", "幼升小 一年级")
	hasGrade := strings.Contains(s, "年级")
	if (hasGrade && (strings.Contains(s, "初中") || strings.Contains(s, "高中"))) || shortMiddleHint.match(s) {
		s = gradeMiddleWords.replaceAllFunc(s, func(m string) string {
			// 初中2年级, 高中三年级, 初2: 初 or 高, then the number.
			pre := firstRune(m)
			num := firstRune(strings.TrimPrefix(m[len(pre):], "中"))
			return pre + numCN[num]
		})
	}
	if hasGrade {
		s = gradeNumWords.replaceAllFunc(s, func(m string) string {
			d := numCN[firstRune(strings.TrimPrefix(m, "小学"))]
			if j, ok := juniorOf[d]; ok {
				return "初" + j
			}
			return d + "年级"
		})
	}
	if strings.Contains(s, "小") && shortGradeHint.match(s) {
		s = gradeShortWords.replaceAllFunc(s, func(m string) string {
			// 小 and the number, then what follows it (年级, 的…).
			num := firstRune(m[len("小"):])
			return numCN[num] + "年级" + m[len("小")+len(num):]
		})
	}
	return s
}

// gradeNames are the canonical grades, in school order.
var gradeNames = []string{"一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三", "高一", "高二", "高三"}

// gradesIn lists the canonical grades named in normalised text.
func gradesIn(norm string) []string {
	var out []string
	for _, g := range gradeNames {
		if strings.Contains(norm, g) {
			out = append(out, g)
		}
	}
	return out
}

// roleStatements map statements about oneself (我是一名家长, see
// statesRole) to a role, in order.
var roleStatements = []struct {
	words []string
	notWe bool // 我们是 does not count
	role  string
}{
	{[]string{"家长", "爸爸", "妈妈", "父亲", "母亲", "监护人"}, false, "parents"},
	{[]string{"老师", "教师", "班主任", "校长"}, false, "teachers"},
	{[]string{"学生", "考生"}, false, "students"},
	{[]string{"工作人员", "职工", "教职工"}, true, "staff"},
}

// kinWords: the writer speaks of their child (我家孩子).
var kinWords = newWordSet(`(我|我家|我们家)(的)?(孩子|儿子|女儿|小孩|娃|闺女)`)

// roleIn returns the role the text states about its writer, or "".
func roleIn(norm string) string {
	for _, p := range roleStatements {
		if statesRole(norm, p.words, p.notWe) {
			return p.role
		}
	}
	if kinWords.match(norm) {
		return "parents"
	}
	return ""
}

// fillerWords are greetings and politeness that carry no meaning but would
// otherwise be segmented into misleading words (老师 as a form of address).
var fillerWords = newWordSet(`^(各位|尊敬的)?(老师|校长|领导|工作人员|小编|客服|同志)(们)?(你好|您好|好)?\s*|\s*(老师|老师们)$|在吗|在不在|(你好|您好|老师好|请问一下|请问|麻烦问一下|麻烦您|麻烦你|打扰一下|打扰了|想咨询一下|咨询一下|谢谢您|谢谢你|谢谢了|谢谢啦|谢谢|多谢|感谢)\s*(老师)?`)

// stripFiller removes greetings and politeness from normalised text.
func stripFiller(norm string) string {
	return strings.TrimSpace(fillerWords.replaceAll(norm, " "))
}
