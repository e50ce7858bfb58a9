// Package search matches a user's question against a content set: it
// normalises and segments the text, applies keyword rules, ranks FAQs and
// notices with fielded BM25 and returns a calibrated confidence, so the
// caller can answer, offer choices, or fall back.
package search

import (
	"time"
)

// Kind is the kind of content a candidate is.
type Kind string

const (
	KindRule   Kind = "rule"
	KindFAQ    Kind = "faq"
	KindNotice Kind = "notice"
)

// Query is one question with what is known about the asker.
type Query struct {
	Text   string
	Now    time.Time // "today" for 最新/今年/去年 and expiry; zero means time.Now()
	Region string    // from the user's profile or the conversation; "" if unknown
	Grade  string    // canonical grade, e.g. 一年级, 初一, 高三; "" if unknown
	Role   string    // parents, teachers, students, staff; "" if unknown

	// Analysis, when set, is Engine.Analyze's (or AnalyzeAt's) reading of
	// this Text: Match reuses it instead of analysing the text again. One
	// made for another text, another day or an older content version is
	// ignored (the text is analysed afresh).
	Analysis *Analysis

	Explain bool // fill Result.Explain
}

// Decision is what the matcher recommends.
type Decision int

const (
	// Fallback: nothing answers the question with enough confidence.
	Fallback Decision = iota
	// Answer: Best answers the question.
	Answer
	// Choices: several candidates fit about equally; offer Choices.
	Choices
	// Suggest: no candidate is confident enough to answer directly, but the
	// best few are plausible: offer Choices (at most 3) as "did you mean"
	// (猜你想问). Never a direct answer below the confident threshold.
	Suggest
)

// Scope says whether a message is something the bureau's content can answer.
type Scope int

const (
	// InScope: a question for the bureau's notices and FAQs (or unknown).
	InScope Scope = iota
	// AboutBot: chit-chat or a question about the bot itself (你是谁, 你是机器人吗).
	AboutBot
	// Personal: one person's records (my child's grades, a teacher's phone number).
	Personal
	// OtherService: another public service (驾校, 社保, 医保).
	OtherService
	// OtherPlace: another city's or province's matters.
	OtherPlace
)

// Candidate is one piece of content that may answer.
type Candidate struct {
	Kind       Kind    `json:"kind"`
	ID         string  `json:"id"`
	Title      string  `json:"title"` // FAQ question, notice title or rule id
	Score      float64 `json:"score"`
	Confidence float64 `json:"confidence"` // 0..1, calibrated: same meaning on any content set
}

// Result is the matcher's answer to a Query.
type Result struct {
	Decision Decision
	Best     Candidate   // valid when Decision is Answer
	Choices  []Candidate // when Decision is Choices: up to 5, best first
	Top      []Candidate // the ranked candidates considered, best first
	Analysis Analysis
	Explain  *Explain // when Query.Explain
}

// Analysis is what the matcher understood of the text on its own.
type Analysis struct {
	Normalized string   // after width/case/punctuation/traditional normalisation
	Tokens     []string // meaningful tokens after removing greetings and filler
	Regions    []string // regions named (canonical names as used in the content)
	Grades     []string // grades named (canonical)
	Role       string   // role the text states (我是老师 → teachers), or ""
	Exams      []string // exams named: 高考, 中考, 成人高考, 学业水平考试, 研究生考试, 自学考试, 专升本
	Levels     []string // school levels named: 幼儿园, 小学, 初中, 高中, 职高, 大学, 研究生
	Empty      bool     // nothing meaningful is left (only greetings/filler/punctuation)
	Scope      Scope    // out-of-scope messages get a kind fallback, never an unrelated FAQ

	// Topic is the question without its region and grade words, greetings
	// and punctuation (惠来中考报名时间 → 中考报名时间): what a follow-up
	// such as 那普宁呢 asks again for another region.
	Topic string
	// FollowUp: the message names a region and/or a grade and nothing else
	// but follow-up words (那北川羌族自治县呢, 初一的呢, 换成普宁): the
	// previous topic, asked again for Regions/Grades.
	FollowUp bool

	prep *query // the prepared query Match reuses; see Query.Analysis
	gen  uint64 // content version prep was made against
	day  string // Query.Now's date prep was made for
}

// Explain says why a question got its answer.
type Explain struct {
	Tokens     []string    `json:"tokens"`
	Expansions []string    `json:"expansions"`
	Candidates []Candidate `json:"candidates"`
	Notes      []string    `json:"notes,omitempty"`
}
