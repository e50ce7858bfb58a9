package search

// Periods: which school term an item applies to, and which one a question
// asks about. 什么时候开学 in November asks about the spring term; 这学期
// about the current one.

import (
	"regexp"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/content"
)

// season is a term named without a year (秋季学期: every autumn).
type season uint8

const (
	seasonNone season = iota
	seasonSpring
	seasonAutumn
)

var (
	autumnRe = regexp.MustCompile(`秋季学期|秋季开学|秋学期|秋季入学|秋季`)
	springRe = regexp.MustCompile(`春季学期|春季开学|春学期|寒假(过)?后|寒假结束|春季`)
	// startWords: the question asks when a term begins (or the next one).
	startWords = newWordSet(`开学|返校|返学|报到|开课|复课|复学|下学期|下个学期|新学期`)
	// currentWords / nextWords: the term asked about, relative to today.
	currentWords = newWordSet(`这学期|本学期|这个学期|当前学期`)
	nextWords    = newWordSet(`下学期|下个学期|下一学期|新学期`)
	// recentWords: how recent a notice is asked for (这周的通知).
	recentWords = newWordSet(`今天|今日|这周|本周|这星期|这个星期|这礼拜|这个礼拜|这个月|本月|这几天`)
)

// dayNum counts days since 1970-01-01 (0 stands for "not said").
func dayNum(t time.Time) int32 {
	if t.IsZero() {
		return 0
	}
	return int32(t.Unix()/86400) + 1
}

func dayTime(n int32) time.Time { return time.Unix(int64(n-1)*86400, 0).UTC() }

// setPeriod records the period a document applies to: the one its item
// states, else the term its statement names (2026年秋季学期), else the
// season alone (秋季学期什么时候开学: every year's autumn term).
func setPeriod(d *doc, from, until time.Time, statement string) {
	d.pfrom, d.puntil = dayNum(from), dayNum(until)
	if d.pfrom != 0 || d.puntil != 0 {
		return
	}
	s := strings.ReplaceAll(statement, " ", "")
	switch {
	case springRe.MatchString(s):
		d.season = seasonSpring
	case autumnRe.MatchString(s):
		d.season = seasonAutumn
	default:
		return
	}
	// The year its statement names (an answer's years are often those of
	// an edition long past: the question 秋季学期什么时候开学 is every year's).
	if ys := yearsIn(s); len(ys) == 1 {
		term := "autumn"
		if d.season == seasonSpring {
			term = "spring"
		}
		f, u, err := content.TermRange(itoa(ys[0]) + "-" + term)
		if err == nil {
			d.pfrom, d.puntil = dayNum(f), dayNum(u)
		}
	}
}

func itoa(n int) string {
	if n <= 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// beganSlack: a term that began less than this long ago is still the one
// a question about its start means (asked in the first weeks of term).
const beganSlack = 60 * 24 * time.Hour

// termStart is the first day of the document's term that a question means:
// its own, or for a season, the first one from cutoff on.
func termStart(d *doc, cutoff time.Time) (time.Time, bool) {
	if d.pfrom != 0 {
		return dayTime(d.pfrom), true
	}
	if d.season == seasonNone {
		return time.Time{}, false
	}
	m := time.February
	if d.season == seasonAutumn {
		m = time.August
	}
	start := time.Date(cutoff.Year(), m, 1, 0, 0, 0, 0, time.UTC)
	if start.Before(cutoff) {
		start = start.AddDate(1, 0, 0)
	}
	return start, true
}

// applyPeriods scales the candidates by how their periods fit the term the
// question asks about. Only candidates that state or name a period move.
func (e *Engine) applyPeriods(top []docHit, q *query, now time.Time) {
	if len(q.namedYears) > 0 || q.latest {
		return // the year named, or the newest, decides (see factors)
	}
	ix := e.ix
	if q.startQ || q.nextQ {
		// The term asked about is the next to begin; 开学 in the first
		// weeks of a term may still mean the one just begun, 下学期 not.
		cutoff := now.Add(-beganSlack)
		if q.nextQ {
			cutoff = now
		}
		var next time.Time
		for _, h := range top {
			if s, ok := termStart(ix.docs[h.num], cutoff); ok && !s.Before(cutoff) && (next.IsZero() || s.Before(next)) {
				next = s
			}
		}
		for i := range top {
			s, ok := termStart(ix.docs[top[i].num], cutoff)
			switch {
			case !ok:
			case next.IsZero():
				// No candidate speaks of the next term: the one begun is
				// the best there is.
			case s.Before(cutoff):
				top[i].conf *= tune.begunTermF
				top[i].notes = append(top[i].notes, "a term that began long ago")
			case s.After(next):
				top[i].conf *= tune.laterTermF
				top[i].notes = append(top[i].notes, "a later term than the next")
			default:
				top[i].notes = append(top[i].notes, "the term asked about")
			}
		}
		return
	}
	for i := range top {
		d := ix.docs[top[i].num]
		switch {
		case d.puntil != 0 && now.After(dayTime(d.puntil).Add(24*time.Hour)):
			top[i].conf *= tune.overPeriodF
			top[i].notes = append(top[i].notes, "its period is over")
		case q.currentQ && d.pfrom != 0 && !now.Before(dayTime(d.pfrom)):
			top[i].conf *= 1.05
			top[i].notes = append(top[i].notes, "the current term")
		}
	}
}
