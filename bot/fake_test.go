package bot_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/stats"
)

// fakeMatcher is a small, predictable stand-in for search.Engine: bigram
// overlap with region and grade preferences, over a content set.
type fakeMatcher struct {
	set    *content.Set
	mu     sync.Mutex
	calls  int // Match calls, to see that retries are not matched again
	reused int // Match calls given the message's analysis
}

var _ bot.Matcher = (*fakeMatcher)(nil)

var fakeRegions = []struct{ alias, canon string }{
	{"普宁市", "普宁市"}, {"普宁", "普宁市"}, {"惠来县", "惠来县"}, {"惠来", "惠来县"},
	{"揭阳市", "揭阳市"}, {"揭阳", "揭阳市"}, {"市区", "揭阳市"}, {"榕城", "揭阳市"},
}

var fakeGradeRe = regexp.MustCompile(`[初高][一二三]|[一二三四五六]年级`)

func loadTestSet(t testing.TB) *content.Set {
	t.Helper()
	set, err := content.Load(os.DirFS("testdata/content"))
	if err != nil {
		t.Fatalf("test content: %v", err)
	}
	return set
}

func fold(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r >= '！' && r <= '～' {
			r -= 0xFEE0
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

// fakeFloor is the fake's lower bound of a "did you mean" (its threshold
// to answer is 0.5).
const fakeFloor = 0.4

// fakeStop are words the fake reads as carrying no meaning, as the real
// engine's stop words and filler do.
var fakeStop = []string{"如果是", "我们是", "那么", "我是", "那", "呢", "的", "吗", "是", "啊", "呀", "读"}

// fakeScope is the fake's small vocabulary for messages not for the content.
var fakeScope = []struct {
	word  string
	scope search.Scope
}{
	{"你是谁", search.AboutBot}, {"机器人", search.AboutBot}, {"成绩", search.Personal}, {"电话", search.Personal},
	{"驾校", search.OtherService}, {"社保", search.OtherService}, {"北京", search.OtherPlace}, {"深圳", search.OtherPlace},
}

// AnalyzeAt reads like the real engine: regions are taken out of the
// tokens, grades are tokens of their own, filler is dropped; Topic is the
// rest, FollowUp a message of only a region or grade.
func (f *fakeMatcher) AnalyzeAt(text string, now time.Time) search.Analysis {
	n := fold(text)
	a := search.Analysis{Normalized: n, Empty: n == "" || n == "你好" || n == "您好" || n == "在吗"}
	rest := n
	for _, r := range fakeRegions {
		if strings.Contains(rest, r.alias) {
			if !slices.Contains(a.Regions, r.canon) {
				a.Regions = append(a.Regions, r.canon)
			}
			rest = strings.ReplaceAll(rest, r.alias, " ")
		}
	}
	for _, g := range fakeGradeRe.FindAllString(n, -1) {
		if !slices.Contains(a.Grades, g) {
			a.Grades = append(a.Grades, g)
			a.Tokens = append(a.Tokens, g)
		}
	}
	rest = fakeGradeRe.ReplaceAllString(rest, " ")
	for _, w := range fakeStop {
		rest = strings.ReplaceAll(rest, w, " ")
	}
	a.Tokens = append(a.Tokens, strings.Fields(rest)...)
	a.Topic = strings.Join(strings.Fields(rest), "")
	a.FollowUp = a.Topic == "" && (len(a.Regions) > 0 || len(a.Grades) > 0)
	switch {
	case strings.Contains(n, "我是") && strings.Contains(n, "家长"):
		a.Role = "parents"
	case strings.Contains(n, "我是") && strings.Contains(n, "老师"):
		a.Role = "teachers"
	}
	for _, s := range fakeScope {
		if strings.Contains(n, s.word) {
			a.Scope = s.scope
			break
		}
	}
	return a
}

func bigrams(s string) map[string]bool {
	rs := []rune(s)
	out := map[string]bool{}
	for i := 0; i+1 < len(rs); i++ {
		out[string(rs[i:i+2])] = true
	}
	if len(rs) == 1 {
		out[s] = true
	}
	return out
}

func (f *fakeMatcher) core(s string) string {
	s = fold(s)
	for _, r := range fakeRegions {
		s = strings.ReplaceAll(s, r.alias, "")
	}
	return fakeGradeRe.ReplaceAllString(s, "")
}

func (f *fakeMatcher) Match(ctx context.Context, q search.Query) search.Result {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	a := f.AnalyzeAt(q.Text, q.Now)
	if q.Analysis != nil && q.Analysis.Normalized == fold(q.Text) {
		a = *q.Analysis
		f.mu.Lock()
		f.reused++
		f.mu.Unlock()
	}
	res := search.Result{Analysis: a}
	for _, r := range f.set.Rules {
		if slices.Contains(r.Keywords, a.Normalized) {
			res.Decision = search.Answer
			res.Best = search.Candidate{Kind: search.KindRule, ID: r.ID, Title: r.ID, Confidence: 1}
			res.Top = []search.Candidate{res.Best}
			return res
		}
	}
	qb := bigrams(f.core(q.Text))
	if len(qb) == 0 {
		return res
	}
	regions := a.Regions
	if len(regions) == 0 && q.Region != "" {
		regions = []string{q.Region}
	}
	grades := a.Grades
	if len(grades) == 0 && q.Grade != "" {
		grades = []string{q.Grade}
	}
	score := func(region, title string, texts ...string) float64 {
		best := 0.0
		for _, t := range texts {
			tb := bigrams(f.core(t))
			hit := 0
			for g := range qb {
				if tb[g] {
					hit++
				}
			}
			best = max(best, float64(hit)/float64(len(qb)))
		}
		if len(regions) > 0 && region != "" {
			if slices.Contains(regions, region) {
				best += 0.3
			} else {
				best -= 0.5
			}
		}
		if tg := fakeGradeRe.FindString(title); tg != "" && len(grades) > 0 {
			if slices.Contains(grades, tg) {
				best += 0.3
			} else {
				best -= 0.5
			}
		}
		return best
	}
	var cs []search.Candidate
	for _, fq := range f.set.FAQs {
		texts := append([]string{fq.Question, strings.Join(fq.Keywords, "")}, fq.Alternates...)
		cs = append(cs, search.Candidate{Kind: search.KindFAQ, ID: fq.ID, Title: fq.Question, Score: score(fq.Region, fq.Question, texts...)})
	}
	for _, n := range f.set.Notices {
		cs = append(cs, search.Candidate{Kind: search.KindNotice, ID: n.ID, Title: n.Title, Score: score(n.Region, n.Title, n.Title) - 0.05})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Score > cs[j].Score })
	for i := range cs {
		cs[i].Confidence = max(0, min(1, cs[i].Score))
	}
	var top []search.Candidate
	for _, c := range cs {
		if c.Score >= 0.3 {
			top = append(top, c)
		}
	}
	res.Top = top
	if len(top) > 0 && top[0].Score >= fakeFloor && top[0].Score < 0.5 {
		// Plausible but not confident: "did you mean", at most 3.
		res.Decision = search.Suggest
		res.Choices = top[:min(3, len(top))]
		return res
	}
	if len(top) == 0 || top[0].Score < 0.5 {
		return res
	}
	var close []search.Candidate
	for _, c := range top {
		if c.Kind == search.KindFAQ && top[0].Score-c.Score < 0.12 && len(close) < 5 {
			close = append(close, c)
		}
	}
	if len(close) >= 2 {
		res.Decision, res.Choices = search.Choices, close
		return res
	}
	res.Decision, res.Best = search.Answer, top[0]
	return res
}

func (f *fakeMatcher) Notice(id string) *content.Notice { return f.set.Notice(id) }
func (f *fakeMatcher) FAQ(id string) *content.FAQ       { return f.set.FAQ(id) }
func (f *fakeMatcher) Rule(id string) *content.Rule     { return f.set.Rule(id) }
func (f *fakeMatcher) Tags() []string                   { return f.set.Tags() }
func (f *fakeMatcher) Regions() []string                { return f.set.Regions() }

// clock is a settable time source shared by bots of one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A Tuesday at 10:00 in Shanghai: inside the default office hours.
var tuesdayMorning = time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// recorder collects what the bot records and passes it on to the real
// statistics (on the test's Redis), which transcripts check.
type recorder struct {
	mu    sync.Mutex
	seen  []bot.Reply
	picks []bot.Pick
	stats *stats.Recorder
}

var _ bot.PickRecorder = (*recorder)(nil)

func (r *recorder) Record(ctx context.Context, user, text string, rep bot.Reply, at time.Time) {
	r.mu.Lock()
	r.seen = append(r.seen, rep)
	r.mu.Unlock()
	if r.stats != nil {
		r.stats.Record(ctx, user, text, rep, at)
	}
}

func (r *recorder) Picked(ctx context.Context, user string, p bot.Pick, at time.Time) {
	r.mu.Lock()
	r.picks = append(r.picks, p)
	r.mu.Unlock()
	if r.stats != nil {
		r.stats.Picked(ctx, user, p, at)
	}
}

// massSink collects mass-send results.
type massSink struct {
	mu  sync.Mutex
	got []bot.MassResult
}

func (m *massSink) MassFinished(ctx context.Context, r bot.MassResult) error {
	m.mu.Lock()
	m.got = append(m.got, r)
	m.mu.Unlock()
	return nil
}

type env struct {
	m     *fakeMatcher
	store *redisstore.Store
	clock *clock
	rec   *recorder
	stats *stats.Recorder
	mass  *massSink
	cfg   bot.Config
	rdb   interface{ Close() error }
}

func testConfig() bot.Config {
	cfg := bot.DefaultConfig()
	cfg.Clicks = map[string]string{
		"AID":     "faq-aid-apply",
		"EXAM":    "n-exam-admission",
		"TERM":    "text:秋季几号开学",
		"TOPICS":  "action:topics",
		"HANDOFF": "action:handoff",
		"HOTLINE": "action:hotline",
		"GONE":    "faq-no-longer-there",
	}
	return cfg
}

func newEnv(t testing.TB) *env {
	t.Helper()
	rdb, prefix := testredis.New(t)
	st, err := stats.New(context.Background(), rdb, prefix, stats.Options{Location: tuesdayMorning.Location(), Salt: "bot-test-salt"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		m:     &fakeMatcher{set: loadTestSet(t)},
		store: redisstore.New(rdb, prefix),
		clock: &clock{t: tuesdayMorning},
		rec:   &recorder{stats: st},
		stats: st,
		mass:  &massSink{},
		cfg:   testConfig(),
	}
}

// bot builds one replica on the env's shared store.
func (e *env) bot() *bot.Bot {
	return bot.New(e.cfg, bot.Deps{Matcher: e.m, Store: e.store, Recorder: e.rec, Mass: e.mass, Now: e.clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

var msgSeq struct {
	mu sync.Mutex
	n  int
}

func nextMsgID() string {
	msgSeq.mu.Lock()
	defer msgSeq.mu.Unlock()
	msgSeq.n++
	return "7" + strings.Repeat("0", 6) + string(rune('0'+msgSeq.n%10)) + time.Now().Format("150405.000000000")
}

func textMsg(user, text string) bot.Message {
	return bot.Message{MsgID: nextMsgID(), User: user, Account: "gh_test", Type: bot.TypeText, Text: text, CreateTime: time.Now()}
}
