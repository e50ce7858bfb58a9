package search

// Constraints a question and an answer must agree on: the exam (高考 is not
// 成人高考), the school level (研究生 is not 中职) and, in regions.go, the
// place. A candidate that names another exam or level than the question
// never answers it, and is never offered in a list.

import (
	"strings"
)

// exam is a set of exam types (bit mask).
type exam uint8

const (
	examGaokao   exam = 1 << iota // 普通高考
	examZhongkao                  // 中考 = 初中学业水平考试
	examAdult                     // 成人高考
	examXuekao                    // 高中学业水平考试 (学考, 合格考)
	examPostgrad                  // 研究生考试
	examSelf                      // 自学考试
	examUpgrade                   // 专升本
)

var examNames = []string{"高考", "中考", "成人高考", "学业水平考试", "研究生考试", "自学考试", "专升本"}

// examWords find exam names, the longer and more specific first: the leftmost
// alternative that matches wins, so 成人高考 is never read as 高考.
var examWords = newWordSet(`成人高考|成人高等学校招生|成人高校招生|成考|` +
	`研究生(入学)?考试|研究生招生|考研|研招|` +
	`初中学业水平考试|初中学考|初中毕业升学|` +
	`高中学业水平(合格性|选择性)?考试|高中学考|学考|合格考|会考|` +
	`学业水平考试|` +
	`自学考试|自考|专升本|专插本|` +
	`高考|普通高校招生|普通高等学校招生|` +
	`中考|中招`)

func examOfMatch(m string) exam {
	switch {
	case strings.HasPrefix(m, "成人") || m == "成考":
		return examAdult
	case strings.Contains(m, "研"):
		return examPostgrad
	case strings.HasPrefix(m, "初中") || m == "中考" || m == "中招":
		return examZhongkao
	case strings.HasPrefix(m, "高中学") || m == "学考" || m == "合格考" || m == "会考":
		return examXuekao
	case m == "学业水平考试":
		// Without 初中/高中 it may be either (初中学业水平考试 is 中考).
		return examZhongkao | examXuekao
	case m == "自学考试" || m == "自考":
		return examSelf
	case m == "专升本" || m == "专插本":
		return examUpgrade
	}
	return examGaokao
}

// level is a set of school levels (bit mask).
type level uint8

const (
	levelKinder   level = 1 << iota // 幼儿园
	levelPrimary                    // 小学
	levelJunior                     // 初中
	levelSenior                     // 高中
	levelVocation                   // 职高, 中职
	levelCollege                    // 大学, 高职
	levelPostgrad                   // 研究生
)

var levelNames = []string{"幼儿园", "小学", "初中", "高中", "职高", "大学", "研究生"}

// levelWords find school levels; as with exams, the leftmost and first
// alternative wins (初中学业 is 初中, not 中学; 中小学 is three levels).
var levelWords = newWordSet(`幼升小|小升初|中小学|中小幼|义务教育|幼儿园|学前教育|学前|托育|入园|` +
	`小学|一年级|二年级|三年级|四年级|五年级|六年级|` +
	`初中|初一|初二|初三|` +
	`普通高中|普高|高中|高一|高二|高三|` +
	`中等职业|中职|中专|职业高中|职高|技工学校|技校|职校|` +
	`研究生|硕士|博士|考研|` +
	`高等职业|高职|大专|专科|本科|大学|高校|高等学校|` +
	`中学`)

func levelOfMatch(m string) level {
	switch m {
	case "幼升小":
		return levelKinder | levelPrimary
	case "小升初":
		return levelPrimary | levelJunior
	case "中小学":
		return levelPrimary | levelJunior | levelSenior
	case "中小幼":
		return levelKinder | levelPrimary | levelJunior | levelSenior
	case "义务教育":
		return levelPrimary | levelJunior
	case "中学":
		return levelJunior | levelSenior
	case "幼儿园", "学前教育", "学前", "托育", "入园":
		return levelKinder
	case "初中", "初一", "初二", "初三":
		return levelJunior
	case "普通高中", "普高", "高中", "高一", "高二", "高三":
		return levelSenior
	case "中等职业", "中职", "中专", "职业高中", "职高", "技工学校", "技校", "职校":
		return levelVocation
	case "研究生", "硕士", "博士", "考研":
		return levelPostgrad
	case "高等职业", "高职", "大专", "专科", "本科", "大学", "高校", "高等学校":
		return levelCollege
	}
	return levelPrimary // 小学 and its grades
}

// constraintsOf reads the exams and levels normalised text names.
func constraintsOf(norm string) (exam, level) {
	if norm == "" {
		return 0, 0
	}
	compact := strings.ReplaceAll(norm, " ", "")
	var ex exam
	for _, m := range examWords.findAll(compact, -1) {
		ex |= examOfMatch(m)
	}
	var lv level
	for _, m := range levelWords.findAll(compact, -1) {
		lv |= levelOfMatch(m)
	}
	return ex, lv
}

// names lists the names of a mask's bits.
func maskNames(mask uint8, names []string) []string {
	var out []string
	for i, n := range names {
		if mask&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// bridged adds the levels an exam lies between: 中考 is taken in 初中 to
// enter 高中 (a 初三 question about 高中志愿 is one question), 高考 in 高中
// to enter 大学.
func bridged(e exam, l level) level {
	if e&examZhongkao != 0 {
		l |= levelJunior | levelSenior | levelVocation
	}
	if e&(examGaokao|examXuekao) != 0 {
		l |= levelSenior | levelVocation | levelCollege
	}
	if e&(examAdult|examSelf|examUpgrade) != 0 {
		l |= levelCollege
	}
	if e&examPostgrad != 0 {
		l |= levelCollege | levelPostgrad
	}
	return l
}

// contradicts reports whether a document's exams and levels exclude it for
// a question: both name an exam (or a level) and none is the same.
func contradicts(qe exam, ql level, de exam, dl level) (bool, string) {
	if qe != 0 && de != 0 && qe&de == 0 {
		return true, "another exam than asked"
	}
	if ql != 0 && dl != 0 && bridged(qe, ql)&bridged(de, dl) == 0 {
		return true, "another school level than asked"
	}
	return false, ""
}
