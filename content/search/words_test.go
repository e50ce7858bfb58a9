package search

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// wordSetOracles are the regexps the word sets replaced, verbatim: each
// set must find exactly what its regexp found.
var wordSetOracles = []struct {
	name string
	set  *wordSet
	old  *regexp.Regexp
}{
	{"latest", latestWords, regexp.MustCompile(`最新|最近|近期|新出的|刚出的`)},
	{"docIntent", docIntentWords, regexp.MustCompile(`(那个|那篇|这个|这篇|那份|这份)?(通知|原文|全文|文章|公告|通告|红头文件)(原文|全文)?|(那个|这个|那份|这份)文件|文件\s*$`)},
	{"askMarker", askMarkerWords, regexp.MustCompile(`想问问|想问一下|想问下|想问|请问一下|请问|问一下|问下|想咨询|咨询一下|想了解一下|想了解|想知道|麻烦问一下|我的问题是|问题是`)},
	{"questionClause", questionClauseWords, regexp.MustCompile(`吗|呢|么|什么|怎么|怎样|如何|哪|几|多少|多久|是否|能不能|可不可以|可以不|要不要|有没有|是不是|啥|咋|没有`)},
	{"filler", fillerWords, regexp.MustCompile(`^(各位|尊敬的)?(老师|校长|领导|工作人员|小编|客服|同志)(们)?(你好|您好|好)?\s*|\s*(老师|老师们)$|在吗|在不在|(你好|您好|老师好|请问一下|请问|麻烦问一下|麻烦您|麻烦你|打扰一下|打扰了|想咨询一下|咨询一下|谢谢您|谢谢你|谢谢了|谢谢啦|谢谢|多谢|感谢)\s*(老师)?`)},
	{"exam", examWords, regexp.MustCompile(`成人高考|成人高等学校招生|成人高校招生|成考|` +
		`研究生(入学)?考试|研究生招生|考研|研招|` +
		`初中学业水平考试|初中学考|初中毕业升学|` +
		`高中学业水平(合格性|选择性)?考试|高中学考|学考|合格考|会考|` +
		`学业水平考试|` +
		`自学考试|自考|专升本|专插本|` +
		`高考|普通高校招生|普通高等学校招生|` +
		`中考|中招`)},
	{"aboutBot", aboutBotWords, regexp.MustCompile(`你是谁|你是哪位|你叫什么|你叫啥|你的名字|你名字|你(们)?(到底|究竟)?是(不是)?(机器人|真人|真的人|人工智能|ai|智能客服|自动回复|小编|电脑|程序|人还是)|` +
		`你(们)?是人吗|你是男|你是女|你几岁|你多大|你今年多大|你会(做)?(什么|啥)|你能(做|干|帮我做)?(什么|啥)|你有什么(用|功能)|你可以做什么|` +
		`你(真|好|很|太)(聪明|笨|棒|厉害|蠢|可爱)|你(吃饭|睡觉|下班)了(吗|没)|你在(干嘛|做什么|干什么)|你(们)?(是不是)?(真人|机器人)(吗|还是)|` +
		`你是哪个|你叫什么|` +
		`讲(个)?笑话|陪我(聊|玩)|聊(聊)?天吧|我(好)?无聊|我爱你|早上好|晚安|午安|` +
		`天气(怎么样|如何|好吗|咋样)|(今天|明天|后天)(天气|下雨吗|会下雨)`)},
	{"schoolContext", schoolContextWords, regexp.MustCompile(`学校|上学|入学|读书|报名|学位|招生|积分|转学|学籍|借读|学生|孩子|小孩|儿童|学费|开学|放假|考试|中考|中招|高考|学考|体育|免考|` +
		`教师|老师|幼儿园|小学|初中|高中|资助|助学|请假|返校|入园|新生|年级`)},
	{"strongService", strongServiceWords, regexp.MustCompile(`驾校|驾照|驾驶证|学车|考驾|科目[一二三四]考试|车管所|交警|违章|罚单|车牌|年审|` +
		`公积金|个税|个人所得税|纳税|税务|养老保险|养老金|退休金|失业保险|失业金|生育保险|工伤|` +
		`护照|港澳通行证|签证|出入境|结婚证|离婚|婚姻登记|房产证|不动产登记|营业执照|工商注册|` +
		`水费|电费|燃气费|宽带|话费|快递|外卖|彩票|股票|` +
		`公务员考试|考公务员|考公|事业单位招聘|劳动仲裁|工资拖欠|欠薪`)},
	{"weakService", weakServiceWords, regexp.MustCompile(`社保卡?|医保卡?|医疗保险|户口(迁移|迁入|迁出|办理|本补办|簿补办)|迁户口|落户|上户口|身份证|居住证|` +
		`挂号|看病|医院|打疫苗|疫苗接种|租房补贴|购房`)},
	{"start", startWords, regexp.MustCompile(`开学|返校|返学|报到|开课|复课|复学|下学期|下个学期|新学期`)},
	{"current", currentWords, regexp.MustCompile(`这学期|本学期|这个学期|当前学期`)},
	{"next", nextWords, regexp.MustCompile(`下学期|下个学期|下一学期|新学期`)},
	{"recent", recentWords, regexp.MustCompile(`今天|今日|这周|本周|这星期|这个星期|这礼拜|这个礼拜|这个月|本月|这几天`)},
	{"schoolWord", schoolWords, regexp.MustCompile(`中学|大学|附中|[一二三四五六七八九十0-9]中`)},
	{"gradeMiddle", gradeMiddleWords, regexp.MustCompile(`(初中|高中)([1-3一二三])年级|(初|高)([1-3])`)},
	{"gradeNum", gradeNumWords, regexp.MustCompile(`(小学)?([1-9一二三四五六七八九])\s?年级`)},
	{"shortGradeHint", shortGradeHint, regexp.MustCompile(`小[1-6一二三四五六]`)},
	{"shortMiddleHint", shortMiddleHint, regexp.MustCompile(`[初高][1-3]`)},
	{"gradeShort", gradeShortWords, regexp.MustCompile(`小([1-6一二三四五六])(年级|学生|新生|的|孩子|$|\s)`)},
	{"spokenGrade", spokenGradeWords, regexp.MustCompile(`(读|上|升|入|念)小([1-6一二三四五六])`)},
	{"level", levelWords, regexp.MustCompile(`幼升小|小升初|中小学|中小幼|义务教育|幼儿园|学前教育|学前|托育|入园|` +
		`小学|一年级|二年级|三年级|四年级|五年级|六年级|` +
		`初中|初一|初二|初三|` +
		`普通高中|普高|高中|高一|高二|高三|` +
		`中等职业|中职|中专|职业高中|职高|技工学校|技校|职校|` +
		`研究生|硕士|博士|考研|` +
		`高等职业|高职|大专|专科|本科|大学|高校|高等学校|` +
		`中学`)},
}

// wordPieces are the literal texts of a set's paths, cut at every rune, so
// that generated text holds whole words, their beginnings and their ends.
func wordPieces(w *wordSet) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range w.paths {
		for _, st := range p.steps {
			if st.kind != stepLit {
				continue
			}
			add(st.lit)
			for i := range st.lit {
				add(st.lit[:i])
				add(st.lit[i:])
			}
		}
	}
	return out
}

// genText makes text from the pieces mixed with other Han characters,
// Latin letters, digits and spaces.
func genText(r *rand.Rand, pieces []string) string {
	other := []string{"的", "了", "是", "我", "在", "老", "师", "学", "们", "好", "考", "中", "小", "区", "县", "月", "年", "a", "B", "7", "1", "9", "2", "0", " ", " ", "  ", "\t", "\n", "\xff", "，"}
	var b strings.Builder
	for n := r.IntN(9); n >= 0; n-- {
		if r.IntN(3) == 0 {
			b.WriteString(other[r.IntN(len(other))])
		} else {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
	}
	return b.String()
}

// checkAgainst compares a word set's answers for s with the regexp's.
func checkAgainst(t *testing.T, name string, w *wordSet, re *regexp.Regexp, s string) {
	t.Helper()
	if got, want := w.match(s), re.MatchString(s); got != want {
		t.Fatalf("%s: match(%q) = %v, regexp %v", name, s, got, want)
	}
	if got, want := w.find(s), re.FindString(s); got != want {
		t.Fatalf("%s: find(%q) = %q, regexp %q", name, s, got, want)
	}
	i, e := w.index(s, 0)
	var got []int
	if i >= 0 {
		got = []int{i, e}
	}
	if want := re.FindStringIndex(s); !slices.Equal(got, want) {
		t.Fatalf("%s: index(%q) = %v, regexp %v", name, s, got, want)
	}
	if got, want := w.findAll(s, -1), re.FindAllString(s, -1); !slices.Equal(got, want) {
		t.Fatalf("%s: findAll(%q) = %q, regexp %q", name, s, got, want)
	}
	if got, want := w.findAll(s, 2), re.FindAllString(s, 2); !slices.Equal(got, want) {
		t.Fatalf("%s: findAll(%q, 2) = %q, regexp %q", name, s, got, want)
	}
	if got, want := w.replaceAll(s, " "), re.ReplaceAllString(s, " "); got != want {
		t.Fatalf("%s: replaceAll(%q) = %q, regexp %q", name, s, got, want)
	}
}

// Each word set finds what the regexp it replaced finds, on text made of
// its own words, pieces of them and other characters.
func TestWordSetsMatchTheirRegexps(t *testing.T) {
	for _, o := range wordSetOracles {
		t.Run(o.name, func(t *testing.T) {
			if o.set.pattern != o.old.String() {
				t.Fatalf("pattern %q, oracle %q", o.set.pattern, o.old)
			}
			pieces := wordPieces(o.set)
			r := rand.New(rand.NewPCG(1, uint64(len(o.name))))
			for range 20000 {
				checkAgainst(t, o.name, o.set, o.old, genText(r, pieces))
			}
			for _, s := range []string{"", " ", "老师", " 老师", "老师们 ", "文件", "文件 ", "a文件  ", "文件\n", "\xff"} {
				checkAgainst(t, o.name, o.set, o.old, s)
			}
		})
	}
}

// The generic expansion against its regexp for patterns that exercise each
// construct: optional parts (greedy: with the part first), classes, ^, $,
// \s*, and one that reads a prefix of another alternative first.
func TestWordSetConstructs(t *testing.T) {
	for _, pat := range []string{
		`a|ab`, `ab|a`, `a(b)?`, `a(b)?c|ab`, `^a|b`, `^(x|y)?a\s*|\s*(b|bc)$|c\s*(d)?`,
		`[一二三]中|中学`, `x(\s*)$`, `(学|学生)(会)?`, `社保卡?|户口(迁移|迁入)`,
	} {
		w, err := compileWordSet(pat)
		if err != nil {
			t.Fatalf("%s: %v", pat, err)
		}
		re := regexp.MustCompile(pat)
		pieces := append(wordPieces(w), "a", "b", "c", "d", "x", "y", " ")
		r := rand.New(rand.NewPCG(2, uint64(len(pat))))
		for range 5000 {
			checkAgainst(t, pat, w, re, genText(r, pieces))
		}
	}
}

// Patterns that are no finite word list are refused, not mismatched.
func TestWordSetRefuses(t *testing.T) {
	for _, pat := range []string{`a+`, `a.b`, `a*`, `(?i)ab`, `a??`, `\s*`, `a\s*\sb`, `a$b`, `[\p{Han}]{2}区`} {
		if _, err := compileWordSet(pat); err == nil {
			t.Errorf("%s: compiled", pat)
		}
	}
}

// A quick check of the generator itself: it must produce matches, or the
// comparisons above prove little.
func TestWordSetTextsHoldMatches(t *testing.T) {
	for _, o := range wordSetOracles {
		r := rand.New(rand.NewPCG(3, 4))
		pieces, hits := wordPieces(o.set), 0
		for range 1000 {
			if o.old.MatchString(genText(r, pieces)) {
				hits++
			}
		}
		if hits < 300 {
			t.Errorf("%s: %d of 1000 generated texts match", o.name, hits)
		}
	}
}

// handPieces are words and characters of the hand-written scanners'
// patterns, for generated text.
var handPieces = strings.Fields("我是 我们是 作为 本人是 一名 一位 一个 个 家长 爸爸 妈妈 父亲 母亲 监护人 老师 教师 班主任 校长 学生 考生 工作人员 职工 教职工 " +
	"我 我家 我们家 的 孩子 儿子 女儿 小孩 娃 闺女 老师的 电话 手机 微信 号码 联系方式 王 李老 期末 成绩 考了 几分 帮我查 " +
	"濠江 濠江区 区 县 镇 南山 惠来县 新 a 1 19 20 2026 1999 200 7 一二 ，")

// The hand-written scanners find what the regexps they replaced found.
func TestScannersMatchTheirRegexps(t *testing.T) {
	yearRe := regexp.MustCompile(`(19|20)\d\d`)
	placeRe := regexp.MustCompile(`([\p{Han}]{2,3})(区|县|镇)`)
	roleRes := []struct {
		re   *regexp.Regexp
		role string
	}{
		{regexp.MustCompile(`(我是|我们是|作为|本人是)(一名|一位|一个|个)?(.{0,6})(家长|爸爸|妈妈|父亲|母亲|监护人)`), "parents"},
		{regexp.MustCompile(`(我是|我们是|作为|本人是)(一名|一位|一个|个)?(.{0,6})(老师|教师|班主任|校长)`), "teachers"},
		{regexp.MustCompile(`(我是|我们是|作为|本人是)(一名|一位|一个|个)?(.{0,6})(学生|考生)`), "students"},
		{regexp.MustCompile(`(我是|作为|本人是)(一名|一位|一个|个)?(.{0,6})(工作人员|职工|教职工)`), "staff"},
		{regexp.MustCompile(`(我|我家|我们家)(的)?(孩子|儿子|女儿|小孩|娃|闺女)`), "parents"},
	}
	oldRole := func(s string) string {
		for _, p := range roleRes {
			if p.re.MatchString(s) {
				return p.role
			}
		}
		return ""
	}
	personalRe := regexp.MustCompile(`(期末|期中|月考|单元测试|单元考|周测|小测)(考试|考)?(了|的)?(成绩|分数|排名|多少分|几分|考得)|` +
		`(我|我家|我们家)(的)?(孩子|小孩|儿子|女儿|娃|闺女|学生)(这次|上次)?(考试)?(考了|考得)(多少分|几分|怎么样)|` +
		`(我|我家|我们家)(的)?(孩子|小孩|儿子|女儿|娃|闺女)(在|分到|分在|被分到)(哪个|几)班|` +
		`[\p{Han}]{1,2}老师的(电话|手机|微信|号码|联系方式)|(班主任|校长|老师)的(手机|微信|手机号|私人电话)|` +
		`帮我查(一下)?(我|我家|他|她)的|(我|我孩子|我家孩子)的(学号|座位|作业|在校表现|请假记录)`)

	r := rand.New(rand.NewPCG(5, 6))
	texts := []string{"", "我是\n家长", "我是一名一二三四五六家长", "我是一名一二三四五六七家长", "我是个一二三四五六七家长", "我是个一二三四五六七八家长",
		"我是一二三四五六家长", "我是一二三四五六七家长", "我们是工作人员", "作为教职工", "老师的电话", "王老师的电话", "a老师的电话", "\xff老师的电话",
		"濠江区", "在濠江区", "濠江区区", "a濠江区", "1999年", "20261", "19a9"}
	for range 50000 {
		texts = append(texts, genText(r, handPieces))
	}
	// Statements at the edge of the gap allowed between intro and role.
	intros := []string{"我是", "我们是", "作为", "本人是", "我"}
	counts := []string{"", "一名", "一位", "一个", "个", "一"}
	gap := []string{"的", "a", "\n", " ", "一", "个", "名", "老", "学"}
	words := []string{"家长", "监护人", "老师", "校长", "学生", "考生", "工作人员", "教职工", "孩子", "老师的电话"}
	for range 30000 {
		var b strings.Builder
		b.WriteString(genText(r, handPieces[:6]))
		b.WriteString(intros[r.IntN(len(intros))])
		b.WriteString(counts[r.IntN(len(counts))])
		for n := r.IntN(10); n > 0; n-- {
			b.WriteString(gap[r.IntN(len(gap))])
		}
		b.WriteString(words[r.IntN(len(words))])
		texts = append(texts, b.String())
	}
	roles, personals := 0, 0
	for _, s := range texts {
		if got, want := yearNums(s), yearRe.FindAllString(s, -1); !slices.Equal(got, want) {
			t.Fatalf("yearNums(%q) = %q, regexp %q", s, got, want)
		}
		var got, want []string
		for name, prefix := range placeNames(s) {
			got = append(got, name, prefix)
		}
		for _, m := range placeRe.FindAllStringSubmatchIndex(s, -1) {
			want = append(want, s[m[0]:m[1]], s[m[2]:m[3]])
		}
		if !slices.Equal(got, want) {
			t.Fatalf("placeNames(%q) = %q, regexp %q", s, got, want)
		}
		if got, want := roleIn(s), oldRole(s); got != want {
			t.Fatalf("roleIn(%q) = %q, regexp %q", s, got, want)
		}
		if roleIn(s) != "" {
			roles++
		}
		if got, want := personal(s), personalRe.MatchString(s); got != want {
			t.Fatalf("personal(%q) = %v, regexp %v", s, got, want)
		}
		if personal(s) {
			personals++
		}
	}
	if roles < len(texts)/10 || personals < len(texts)/50 {
		t.Errorf("%d of %d texts state a role, %d are personal: the test proves little", roles, len(texts), personals)
	}
}

// The old grade, year and day rewriting, with the regexps, as oracles.
var (
	oldYearRe          = regexp.MustCompile(`[〇零一二三四五六七八九]{4}`)
	oldGradeMiddleRe   = regexp.MustCompile(`(初中|高中)([1-3一二三])年级|(初|高)([1-3])`)
	oldGradeNumRe      = regexp.MustCompile(`(小学)?([1-9一二三四五六七八九])\s?年级`)
	oldShortGradeHint  = regexp.MustCompile(`小[1-6一二三四五六]`)
	oldShortMiddleHint = regexp.MustCompile(`[初高][1-3]`)
	oldGradeShortRe    = regexp.MustCompile(`小([1-6一二三四五六])(年级|学生|新生|的|孩子|$|\s)`)
	oldSpokenGradeRe   = regexp.MustCompile(`(读|上|升|入|念)小([1-6一二三四五六])`)
	oldDayRe           = regexp.MustCompile(`(\d{1,2})\s?月\s?(\d{1,2})\s?(号|日)`)
	oldDateRe          = regexp.MustCompile(`(?:(\d{4})\s?年\s?)?(\d{1,2})\s?月(?:份)?(?:\s?(\d{1,2})\s?[日号])?`)
	oldSchoolSuffixRe  = regexp.MustCompile(`^(中学|大学|附中|[一二三四五六七八九十0-9]+中)$`)
)

func oldChineseYears(s string) string {
	if !strings.Contains(s, "二〇") && !strings.Contains(s, "二零") && !strings.Contains(s, "一九") {
		return s
	}
	return oldYearRe.ReplaceAllStringFunc(s, func(m string) string {
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

func oldCanonicalGrades(s string) string {
	if !strings.ContainsAny(s, "年级初高小") {
		return s
	}
	s = strings.ReplaceAll(s, "小升初", "小升初 初一")
	s = strings.ReplaceAll(s, "幼升小", "幼升小 一年级")
	hasGrade := strings.Contains(s, "年级")
	if (hasGrade && (strings.Contains(s, "初中") || strings.Contains(s, "高中"))) || oldShortMiddleHint.MatchString(s) {
		s = oldGradeMiddleRe.ReplaceAllStringFunc(s, func(m string) string {
			p := oldGradeMiddleRe.FindStringSubmatch(m)
			level, num := p[1], p[2]
			if level == "" {
				level, num = p[3], p[4]
			}
			pre := "初"
			if strings.HasPrefix(level, "高") {
				pre = "高"
			}
			return pre + numCN[num]
		})
	}
	if hasGrade {
		s = oldGradeNumRe.ReplaceAllStringFunc(s, func(m string) string {
			p := oldGradeNumRe.FindStringSubmatch(m)
			d := numCN[p[2]]
			if j, ok := juniorOf[d]; ok {
				return "初" + j
			}
			return d + "年级"
		})
	}
	if strings.Contains(s, "小") && oldShortGradeHint.MatchString(s) {
		s = oldGradeShortRe.ReplaceAllStringFunc(s, func(m string) string {
			p := oldGradeShortRe.FindStringSubmatch(m)
			return numCN[p[1]] + "年级" + p[2]
		})
	}
	return s
}

func oldReadSpoken(norm string) string {
	if strings.Contains(norm, "小") {
		norm = oldSpokenGradeRe.ReplaceAllStringFunc(norm, func(m string) string {
			p := oldSpokenGradeRe.FindStringSubmatch(m)
			return p[1] + numCN[p[2]] + "年级"
		})
	}
	if strings.Contains(norm, "月") {
		norm = oldDayRe.ReplaceAllString(norm, "${1}月${2}日")
	}
	return norm
}

// Grades, Chinese years, days and dates are rewritten and read as the
// regexps did.
func TestRewritesMatchTheirRegexps(t *testing.T) {
	pieces := strings.Fields("初中 高中 初 高 小学 小 年级 1 2 3 7 9 12 31 0 一 二 三 六 七 九 十 〇 零 学生 新生 的 孩子 读 上 升 念 小升初 幼升小 " +
		"2026 二〇二六 一九九九 二零 年 月 份 号 日 中 中学 大学 附中 a")
	pieces = append(pieces, " ", " ", "\t", "\n", "\xff")
	e := &Engine{}
	datePieces := []string{"2026", "1999", "年", "1", "12", "123", "7", "31", "0", "月", "份", "号", "日", " ", "  ", "a", "六"}
	r := rand.New(rand.NewPCG(9, 10))
	changed, dated := 0, 0
	texts := []string{"2026年 1月", "2026 年 1 月 2 号", "6月7号8月9号", "6月7日8月9日", "1月份2号", "12月份 3 号", "123月4号", "6月45号",
		"6 月 7 号", "2026年13月1日", "02026年1月", "2026年1月份", "读小1 小2的 小三", "初中2年级 高3 初4", "小学5 年级 9年级"}
	for i := range 100000 {
		p := pieces
		if i%2 == 1 {
			p = datePieces
		}
		texts = append(texts, genText(r, p))
	}
	for _, s := range texts {
		if got, want := chineseYears(s), oldChineseYears(s); got != want {
			t.Fatalf("chineseYears(%q) = %q, regexp %q", s, got, want)
		}
		if got, want := chineseYearRuns(s, func(m string) string { return "<" + m + ">" }), oldYearRe.ReplaceAllStringFunc(s, func(m string) string { return "<" + m + ">" }); got != want {
			t.Fatalf("chineseYearRuns(%q) = %q, regexp %q", s, got, want)
		}
		got, want := canonicalGrades(s), oldCanonicalGrades(s)
		if got != want {
			t.Fatalf("canonicalGrades(%q) = %q, regexp %q", s, got, want)
		}
		if got != s {
			changed++
		}
		if got, want := e.readSpoken(s), oldReadSpoken(s); got != want {
			t.Fatalf("readSpoken(%q) = %q, regexp %q", s, got, want)
		}
		var gotDates [][]string
		for _, m := range datesOf(s, 8) {
			gotDates = append(gotDates, m[:])
		}
		wantDates := oldDateRe.FindAllStringSubmatch(s, 8)
		if !slices.EqualFunc(gotDates, wantDates, slices.Equal) {
			t.Fatalf("datesOf(%q) = %q, regexp %q", s, gotDates, wantDates)
		}
		if len(wantDates) > 0 {
			dated++
		}
		for _, w := range []string{s, strings.TrimSpace(s)} {
			if got, want := isSchoolSuffix(w), oldSchoolSuffixRe.MatchString(w); got != want {
				t.Fatalf("isSchoolSuffix(%q) = %v, regexp %v", w, got, want)
			}
		}
	}
	for _, w := range []string{"中学", "二中", "十二中", "12中", "中", "a中", "二中学", "大学 "} {
		if got, want := isSchoolSuffix(w), oldSchoolSuffixRe.MatchString(w); got != want {
			t.Fatalf("isSchoolSuffix(%q) = %v, regexp %v", w, got, want)
		}
	}
	if changed < 5000 || dated < 3000 {
		t.Errorf("%d texts changed, %d dated: the test proves little", changed, dated)
	}
}
