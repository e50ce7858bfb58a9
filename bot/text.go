package bot

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// compact lower-cases s, makes full-width letters and digits half-width and
// drops spaces, punctuation and symbols: the form commands are compared in.
func compact(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r >= '！' && r <= '～' { // full-width ASCII block
			r -= 0xFEE0
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

var cnNum = map[rune]int{'一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9, '十': 10}

// parseNumber reads 1–99 written as 2, ２, 二, 十二 or 二十.
func parseNumber(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, len(s) <= 2 && n > 0
	}
	rs := []rune(s)
	val := func(r rune) (int, bool) { v, ok := cnNum[r]; return v, ok && v < 10 }
	switch len(rs) {
	case 1:
		v, ok := cnNum[rs[0]]
		return v, ok
	case 2:
		if rs[0] == '十' { // 十二
			v, ok := val(rs[1])
			return 10 + v, ok
		}
		if rs[1] == '十' { // 二十
			v, ok := val(rs[0])
			return v * 10, ok
		}
	case 3:
		if rs[1] == '十' { // 二十三
			a, ok1 := val(rs[0])
			c, ok2 := val(rs[2])
			return a*10 + c, ok1 && ok2
		}
	}
	return 0, false
}

// parseChoice reads a message that picks a numbered item: 2, ２, 二,
// 第二个, 第2条, 选3. c is the compact form of the message.
func parseChoice(c string) (int, bool) {
	for _, p := range []string{"我选", "选择", "选", "看", "第"} {
		if strings.HasPrefix(c, p) {
			c = strings.TrimPrefix(c, p)
			break
		}
	}
	c = strings.TrimPrefix(c, "第")
	for _, s := range []string{"个吧", "个", "条", "项", "篇", "号", "吧"} {
		if strings.HasSuffix(c, s) {
			c = strings.TrimSuffix(c, s)
			break
		}
	}
	return parseNumber(c)
}

// regionForms lists the ways a region is written: 普宁市 and 普宁.
func regionForms(region string) []string {
	forms := []string{region}
	for _, suf := range []string{"市", "县", "区"} {
		if s := strings.TrimSuffix(region, suf); s != region && utf8.RuneCountInString(s) >= 2 {
			forms = append(forms, s)
		}
	}
	return forms
}

// gradeRe finds grade words (初一, 三年级, 高中一年级, 小学, …).
var gradeRe = regexp.MustCompile(`(小学|初中|高中)?[一二三四五六七八九1-9]年级|[初高][一二三123]|小[一二三四五六]|小学|初中|高中|幼儿园|[大中小]班|小升初|中考|高考`)

// gradeWords are grade words that are a grade (not an exam).
func gradeWords(s string) []string {
	var out []string
	for _, w := range gradeRe.FindAllString(s, -1) {
		if w != "中考" && w != "高考" && w != "小升初" {
			out = append(out, w)
		}
	}
	return out
}

// strip removes every occurrence of words from s, longest first.
func strip(s string, words []string) string {
	ws := append([]string(nil), words...)
	sort.Slice(ws, func(i, j int) bool { return len(ws[i]) > len(ws[j]) })
	for _, w := range ws {
		if w != "" {
			s = strings.ReplaceAll(s, w, "")
		}
	}
	return s
}

// followFiller are words of a follow-up that carry no topic: 那惠来呢.
var followFiller = []string{"那么", "那", "呢", "的", "如果是", "要是", "换成", "改成", "还有", "那个", "吗", "是", "怎么样", "情况", "又", "呀", "啊", "的话"}

// profileMarkers say that the user is talking about themselves.
var profileMarkers = []string{"我是", "我在", "我们是", "我家", "孩子", "小孩", "儿子", "女儿", "闺女", "我读", "我上", "在读", "就读"}

// roleWords map words to profile roles.
var roleWords = []struct{ word, role string }{
	{"家长", "parents"}, {"爸爸", "parents"}, {"妈妈", "parents"}, {"父亲", "parents"}, {"母亲", "parents"},
	{"爷爷", "parents"}, {"奶奶", "parents"}, {"班主任", "teachers"}, {"老师", "teachers"}, {"教师", "teachers"},
	{"学生", "students"}, {"校长", "staff"}, {"工作人员", "staff"},
}

// profileFiller is what remains of a pure self-description once the
// facts are taken out: 我是普宁的家长 → "".
var profileFiller = []string{"我们", "我", "们", "是", "的", "了", "啊", "呀", "哦", "嗯", "现在", "今年", "目前", "在", "读", "上", "一个", "一名", "一位", "名", "位", "个", "就", "家", "孩子", "小孩", "儿子", "女儿", "闺女", "正"}
