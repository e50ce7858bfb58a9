package search

// Scope: whether a message is something the bureau's notices and FAQs can
// answer at all. Questions about the bot, one person's records and other
// public services get a kind fallback from the dialogue, never the FAQ
// that happens to share a word (驾校 is not 学校, 社保卡 is not 学籍卡).

import (
	"strings"
	"unicode/utf8"
)

// aboutBotWords: chit-chat and questions to the bot about itself. Anchored on
// 你/你们 (the bot) or on small talk that asks nothing of the bureau.
var aboutBotWords = newWordSet(`你是谁|你是哪位|你叫什么|你叫啥|你的名字|你名字|你(们)?(到底|究竟)?是(不是)?(机器人|真人|真的人|人工智能|ai|智能客服|自动回复|小编|电脑|程序|人还是)|` +
	`你(们)?是人吗|你是男|你是女|你几岁|你多大|你今年多大|你会(做)?(什么|啥)|你能(做|干|帮我做)?(什么|啥)|你有什么(用|功能)|你可以做什么|` +
	`你(真|好|很|太)(聪明|笨|棒|厉害|蠢|可爱)|你(吃饭|睡觉|下班)了(吗|没)|你在(干嘛|做什么|干什么)|你(们)?(是不是)?(真人|机器人)(吗|还是)|` +
	`你是哪个|你叫什么|` +
	`讲(个)?笑话|陪我(聊|玩)|聊(聊)?天吧|我(好)?无聊|我爱你|早上好|晚安|午安|` +
	`天气(怎么样|如何|好吗|咋样)|(今天|明天|后天)(天气|下雨吗|会下雨)`)

// schoolContextWords: words that tie a message to schooling; with them a
// general service word is part of an education question (积分入学要社保
// 证明, 免考要医院证明).
var schoolContextWords = newWordSet(`学校|上学|入学|读书|报名|学位|招生|积分|转学|学籍|借读|学生|孩子|小孩|儿童|学费|开学|放假|考试|中考|中招|高考|学考|体育|免考|` +
	`教师|老师|幼儿园|小学|初中|高中|资助|助学|请假|返校|入园|新生|年级`)

// serviceWords: other public services people ask an education account about
// by mistake. strongServiceWords name ones no education question is about;
// weakServiceWords ones that schooling asks for too (户口, 医院证明), which
// count only in a message with no schooling words.
var (
	strongServiceWords = newWordSet(`驾校|驾照|驾驶证|学车|考驾|科目[一二三四]考试|车管所|交警|违章|罚单|车牌|年审|` +
		`公积金|个税|个人所得税|纳税|税务|养老保险|养老金|退休金|失业保险|失业金|生育保险|工伤|` +
		`护照|港澳通行证|签证|出入境|结婚证|离婚|婚姻登记|房产证|不动产登记|营业执照|工商注册|` +
		`水费|电费|燃气费|宽带|话费|快递|外卖|彩票|股票|` +
		`公务员考试|考公务员|考公|事业单位招聘|劳动仲裁|工资拖欠|欠薪`)
	weakServiceWords = newWordSet(`社保卡?|医保卡?|医疗保险|户口(迁移|迁入|迁出|办理|本补办|簿补办)|迁户口|落户|上户口|身份证|居住证|` +
		`挂号|看病|医院|打疫苗|疫苗接种|租房补贴|购房`)
)

// personalWords: one person's records or contacts, which only the school or
// the person can give: a child's term marks, a teacher's phone.
var personalWords = newWordSet(`(期末|期中|月考|单元测试|单元考|周测|小测)(考试|考)?(了|的)?(成绩|分数|排名|多少分|几分|考得)|` +
	`(我|我家|我们家)(的)?(孩子|小孩|儿子|女儿|娃|闺女|学生)(这次|上次)?(考试)?(考了|考得)(多少分|几分|怎么样)|` +
	`(我|我家|我们家)(的)?(孩子|小孩|儿子|女儿|娃|闺女)(在|分到|分在|被分到)(哪个|几)班|` +
	`(班主任|校长|老师)的(手机|微信|手机号|私人电话)|` +
	`帮我查(一下)?(我|我家|他|她)的|(我|我孩子|我家孩子)的(学号|座位|作业|在校表现|请假记录)`)

// namedTeacherContact: a named teacher's contact (王老师的电话): a Han
// character before it.
var namedTeacherContact = newWordSet(`老师的(电话|手机|微信|号码|联系方式)`)

// personal reports whether c asks for one person's records or contacts.
func personal(c string) bool {
	if personalWords.match(c) {
		return true
	}
	for pos := 0; ; {
		i, e := namedTeacherContact.index(c, pos)
		if i < 0 {
			return false
		}
		if r, _ := utf8.DecodeLastRuneInString(c[:i]); i > 0 && isCJK(r) {
			return true
		}
		pos = e // the phrases hold no second 老师的: none is skipped
	}
}

// scopeOf reads the scope of a message from its normalised, filler-free
// text; covered reports whether the content's own statements speak of a
// phrase (a set that answers 学生医保 makes 医保 a question for it).
func scopeOf(body string, covered func(string) bool) Scope {
	c := strings.ReplaceAll(body, " ", "")
	if c == "" {
		return InScope
	}
	if aboutBotWords.match(c) {
		return AboutBot
	}
	if personal(c) {
		return Personal
	}
	if m := strongServiceWords.find(c); m != "" && !covered(m) {
		return OtherService
	}
	if m := weakServiceWords.find(c); m != "" && !covered(m) {
		if !schoolContextWords.match(strings.Replace(c, m, "", 1)) {
			return OtherService
		}
	}
	return InScope
}

// covers reports whether every bigram of a phrase is in the question,
// title or keywords of some live document. The caller holds mu.
func (e *Engine) covers(phrase string) bool {
	found, all := false, true
	termsOf(phrase, func(t string) {
		found = true
		id := e.ix.termID(t, false)
		if id < 0 || len(e.ix.postings[id]) == 0 || e.ix.df[id] == 0 {
			all = false
		}
	})
	return found && all
}
