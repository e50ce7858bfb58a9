package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/internal/config"
)

func init() {
	commands["eval"] = command{
		summary: "measure answer quality on a question file (top-1, wrong answers, fallbacks)",
		run:     runEval,
	}
}

// Default thresholds of --gate: the targets of issue 10 for every unseen
// set. A set can be gated at other levels with --min-top1, --min-helpful,
// --max-wrong and --min-fallback.
const (
	gateTop1         = 0.85
	gateHelpful      = 0.95
	gateWrong        = 0.02
	gateFallbackNone = 0.95
)

// evalQuestion is one line of a question file (FORMAT.md, "Evaluation questions").
type evalQuestion struct {
	ID     string   `json:"id"`
	Query  string   `json:"query"`
	Expect []string `json:"expect"`
	Kind   string   `json:"kind"`
}

// evalOutcome is what the matcher did with one question.
type evalOutcome struct {
	ID         string   `json:"id"`
	Query      string   `json:"query"`
	Kind       string   `json:"kind"`
	Expect     []string `json:"expect"`
	Got        string   `json:"got"`              // answered id, first item of a list, or "" for a fallback
	Listed     []string `json:"listed,omitempty"` // every item the reply shows: the answer, or the list
	Decision   string   `json:"decision"`         // answer, choices, suggest, fallback or out_of_scope
	Confidence float64  `json:"confidence"`
	Right      bool     `json:"right"`           // Got is expected
	Helpful    bool     `json:"helpful"`         // an expected item is anywhere in the reply
	Wrong      bool     `json:"wrong"`           // Got is not expected (a direct answer or a list's first item)
	ConfWrong  bool     `json:"confident_wrong"` // a direct answer that is not expected
	Micros     int64    `json:"micros"`
}

// evalCounts are the figures of a group of questions. Top-1 and helpful
// are of the questions with an answer; wrong, confident wrong and the list
// rate of all questions; fallback of the unanswerable ones, where a
// fallback or a list (Choices, Suggest) counts, a direct answer does not.
type evalCounts struct {
	Questions     int     `json:"questions"`
	Answerable    int     `json:"answerable"`
	Right         int     `json:"right"`
	Helpful       int     `json:"helpful"`
	Wrong         int     `json:"wrong"`
	ConfWrong     int     `json:"confident_wrong"`
	None          int     `json:"none"`
	NoneFell      int     `json:"none_fallback"`
	Lists         int     `json:"lists"`
	Top1          float64 `json:"top1"`
	HelpfulRate   float64 `json:"helpful_rate"`
	WrongRate     float64 `json:"wrong_rate"`
	ConfWrongRate float64 `json:"confident_wrong_rate"`
	FallNone      float64 `json:"fallback_none"`
	ListRate      float64 `json:"list_rate"`
}

func (c *evalCounts) add(o evalOutcome) {
	c.Questions++
	if len(o.Expect) > 0 {
		c.Answerable++
		if o.Right {
			c.Right++
		}
		if o.Helpful {
			c.Helpful++
		}
	} else {
		c.None++
		if o.Decision != search.Answer.String() {
			c.NoneFell++
		}
	}
	if o.Wrong {
		c.Wrong++
	}
	if o.ConfWrong {
		c.ConfWrong++
	}
	if isList(o.Decision) {
		c.Lists++
	}
}

// maxSuggest is how many items a did-you-mean (Suggest) lists (search
// contract: at most 3).
const maxSuggest = 3

// decisionOutOfScope is the decision eval reports for a message the
// matcher reads as not for the content (Analysis.Scope): the bot answers it
// with its kind fallback, whatever the ranking.
const decisionOutOfScope = "out_of_scope"

// replyOf is what the bot's reply to a match shows, as bot/ renders it: the
// decision and the ids in the reply, best first — the answer, or the
// numbered list's first page (Choices followed by the rest of Top, as the bot
// pages them; a Suggest's items only), or nothing for a fallback. An
// out-of-scope message gets the fallback unless a keyword rule answered it.
func replyOf(r search.Result) (decision string, listed []string) {
	rule := r.Decision == search.Answer && r.Best.Kind == search.KindRule
	if r.Analysis.Scope != search.InScope && !rule {
		return decisionOutOfScope, nil
	}
	switch r.Decision {
	case search.Answer:
		return r.Decision.String(), []string{r.Best.ID}
	case search.Suggest:
		for _, c := range r.Choices[:min(len(r.Choices), maxSuggest)] {
			listed = append(listed, c.ID)
		}
	case search.Choices:
		seen := map[string]bool{}
		for _, c := range slices.Concat(r.Choices, r.Top) {
			if len(listed) == bot.PageSize {
				break
			}
			if !seen[c.ID] {
				seen[c.ID] = true
				listed = append(listed, c.ID)
			}
		}
	}
	if len(listed) == 0 {
		return search.Fallback.String(), nil
	}
	return r.Decision.String(), listed
}

// botReplyOf reads a reply of the dialogue like replyOf reads a match: a
// faq, notice or rule reply is a direct answer, a numbered list (choices,
// did-you-mean) a list; anything else (fallback, out of scope, a clarifying
// question, hand-off) shows no content.
func botReplyOf(r bot.Reply) (decision string, listed []string) {
	switch r.Answer {
	case bot.AnswerFAQ, bot.AnswerNotice, bot.AnswerRule:
		if len(r.IDs) > 0 {
			return search.Answer.String(), r.IDs
		}
	case bot.AnswerChoices, search.Suggest.String():
		if len(r.IDs) > 0 {
			return r.Answer, r.IDs
		}
	}
	if r.Answer == decisionOutOfScope {
		return decisionOutOfScope, nil
	}
	return search.Fallback.String(), nil
}

// isList says whether a decision's reply is a numbered list.
func isList(decision string) bool {
	return decision == search.Choices.String() || decision == search.Suggest.String()
}

func (c *evalCounts) finish() {
	c.Top1 = ratio(c.Right, c.Answerable)
	c.HelpfulRate = ratio(c.Helpful, c.Answerable)
	c.WrongRate = ratio(c.Wrong, c.Questions)
	c.ConfWrongRate = ratio(c.ConfWrong, c.Questions)
	c.FallNone = ratio(c.NoneFell, c.None)
	c.ListRate = ratio(c.Lists, c.Questions)
}

// evalGate holds the thresholds --gate checks.
type evalGate struct {
	top1, helpful, wrong, fallback float64
}

// check lists the figures of c that miss the thresholds.
func (g evalGate) check(c *evalCounts) []string {
	var fails []string
	if c.Answerable > 0 && c.Top1 < g.top1 {
		fails = append(fails, fmt.Sprintf("top-1 %.3f < %.2f", c.Top1, g.top1))
	}
	if c.Answerable > 0 && c.HelpfulRate < g.helpful {
		fails = append(fails, fmt.Sprintf("helpful %.3f < %.2f", c.HelpfulRate, g.helpful))
	}
	if c.ConfWrongRate > g.wrong {
		fails = append(fails, fmt.Sprintf("confident wrong %.3f > %.2f", c.ConfWrongRate, g.wrong))
	}
	if c.None > 0 && c.FallNone < g.fallback {
		fails = append(fails, fmt.Sprintf("fallback on unanswerable %.3f < %.2f", c.FallNone, g.fallback))
	}
	return fails
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// evalReport is the whole result, also the --json output.
type evalReport struct {
	Content   string                 `json:"content"`
	Questions string                 `json:"questions"`
	Now       string                 `json:"now"`
	Threshold float64                `json:"threshold"`
	All       evalCounts             `json:"all"`
	Kinds     map[string]*evalCounts `json:"kinds"`
	Confusion map[string]int         `json:"confusion"` // "expected <- answered": count
	Misses    []evalOutcome          `json:"misses"`
	P50Micros int64                  `json:"p50_micros"`
	P99Micros int64                  `json:"p99_micros"`
	Explain   *search.Explain        `json:"explain,omitempty"`
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("eval", flag.ContinueOnError)
	fl.SetOutput(stderr)
	contentDir := fl.String("content", "", "content folder in the interchange format (default: the built-in sample set)")
	questions := fl.String("questions", "", "question file, JSON Lines (required)")
	nowFlag := fl.String("now", "", "today as YYYY-MM-DD, for 今年/去年/最新 and expiry (default: the real date)")
	asJSON := fl.Bool("json", false, "print the report as JSON")
	explainID := fl.String("explain", "", "show why the question with this id got its answer")
	gate := fl.Bool("gate", false, "fail when a figure misses its threshold (--min-top1, --min-helpful, --max-wrong, --min-fallback)")
	var g evalGate
	fl.Float64Var(&g.top1, "min-top1", gateTop1, "with --gate: least top-1 (right answer, or right first item of a list)")
	fl.Float64Var(&g.helpful, "min-helpful", gateHelpful, "with --gate: least helpful rate (right item anywhere in the reply)")
	fl.Float64Var(&g.wrong, "max-wrong", gateWrong, "with --gate: most confident wrong answers (a wrong direct answer), of all questions")
	fl.Float64Var(&g.fallback, "min-fallback", gateFallbackNone, "with --gate: least share of unanswerable questions that get a fallback or a list, not a direct answer")
	threshold := fl.Float64("threshold", 0, "confidence from which the bot answers directly (default: the engine's)")
	suggestFloor := fl.Float64("suggest-floor", 0, "confidence from which, below --threshold, the bot offers a did-you-mean list; below it the fallback (default: the engine's)")
	debug := fl.Bool("debug", false, "log every match's explanation at debug level to stderr")
	viaBot := fl.Bool("bot", false, "ask through the dialogue (bot.Handle, each question from a new user) and count the replies it sends, not the matcher's decisions")
	redisAddr := fl.String("redis", "", "with --bot: the Redis for the dialogue's sessions (default: an embedded one, nothing saved)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	for name, v := range map[string]float64{"min-top1": g.top1, "min-helpful": g.helpful, "max-wrong": g.wrong, "min-fallback": g.fallback} {
		if v < 0 || v > 1 {
			return fmt.Errorf("eval: --%s %v: a threshold is a share between 0 and 1", name, v)
		}
	}
	if *questions == "" {
		return errors.New("eval: --questions is required")
	}
	now := time.Now()
	if *nowFlag != "" {
		d, err := content.ParseDate(*nowFlag)
		if err != nil {
			return fmt.Errorf("eval: --now: %w", err)
		}
		now = d.Time.Add(12 * time.Hour)
	}
	var fsys fs.FS
	label := *contentDir
	if *contentDir != "" {
		fsys = os.DirFS(*contentDir)
	} else {
		fsys, label = sample.FS(), "(built-in sample)"
	}
	set, err := content.Load(fsys)
	if err != nil {
		return fmt.Errorf("eval: load content %s: %w", label, err)
	}
	qs, err := readQuestions(*questions)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	eng, err := search.New(set, search.Options{Logger: logger, Threshold: *threshold, SuggestFloor: *suggestFloor, Now: func() time.Time { return now }})
	if err != nil {
		return fmt.Errorf("eval: build index: %w", err)
	}

	var b *bot.Bot
	if *viaBot {
		cfg := config.Config{}
		cfg.Redis.Timeout = 2 * time.Second
		if *redisAddr != "" {
			cfg.Redis.Addrs = []string{*redisAddr}
		}
		quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		rdb, closeRedis, err := openRedis(ctx, cfg, quiet)
		if err != nil {
			return fmt.Errorf("eval: --bot: %w", err)
		}
		// A prefix of this run's own: with a shared Redis nothing mixes
		// with other runs; its keys are deleted at the end.
		prefix := fmt.Sprintf("edubot-eval:%d:", time.Now().UnixNano())
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			iter := rdb.Scan(dctx, 0, prefix+"*", 500).Iterator()
			for iter.Next(dctx) {
				rdb.Del(dctx, iter.Val())
			}
			if err := iter.Err(); err != nil {
				logger.Warn("eval: delete the dialogue's keys", "prefix", prefix, "err", err)
			}
			_ = closeRedis()
		}()
		b = bot.New(bot.DefaultConfig(), bot.Deps{Matcher: eng, Store: redisstore.New(rdb, prefix),
			Now: func() time.Time { return now }, Log: logger})
	}

	th := *threshold
	if th <= 0 {
		th = search.DefaultThreshold
	}
	rep := evalReport{Content: label, Questions: *questions, Now: now.Format(content.DateLayout), Threshold: th,
		Kinds: map[string]*evalCounts{}, Confusion: map[string]int{}}
	var lat []int64
	for i, q := range qs {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		r := eng.Match(ctx, search.Query{Text: q.Query, Now: now, Explain: q.ID == *explainID})
		us := time.Since(start).Microseconds()
		lat = append(lat, us)
		o := evalOutcome{ID: q.ID, Query: q.Query, Kind: q.Kind, Expect: q.Expect, Micros: us}
		o.Decision, o.Listed = replyOf(r)
		if b != nil {
			o.Decision, o.Listed = botReplyOf(b.Handle(ctx, bot.Message{MsgID: strconv.Itoa(i + 1), User: "oEdubotEval-" + q.ID,
				Account: "gh_edubot_eval", Type: "text", Text: q.Query, CreateTime: now}))
		}
		if len(o.Listed) > 0 {
			o.Got = o.Listed[0]
		}
		switch {
		case r.Decision == search.Answer:
			o.Confidence = r.Best.Confidence
		case len(r.Choices) > 0:
			o.Confidence = r.Choices[0].Confidence
		case len(r.Top) > 0:
			o.Confidence = r.Top[0].Confidence
		}
		o.Right = len(q.Expect) > 0 && slices.Contains(q.Expect, o.Got)
		o.Helpful = slices.ContainsFunc(o.Listed, func(id string) bool { return slices.Contains(q.Expect, id) })
		o.Wrong = o.Got != "" && !slices.Contains(q.Expect, o.Got)
		o.ConfWrong = o.Decision == search.Answer.String() && !slices.Contains(q.Expect, o.Got)
		rep.All.add(o)
		k := rep.Kinds[q.Kind]
		if k == nil {
			k = &evalCounts{}
			rep.Kinds[q.Kind] = k
		}
		k.add(o)
		if o.Wrong {
			want := "(none)"
			if len(q.Expect) > 0 {
				want = q.Expect[0]
			}
			rep.Confusion[want+" <- "+o.Got]++
		}
		if !o.Right && !(len(q.Expect) == 0 && !o.ConfWrong) {
			rep.Misses = append(rep.Misses, o)
		}
		if q.ID == *explainID {
			rep.Explain = r.Explain
		}
	}
	if *explainID != "" && rep.Explain == nil {
		return fmt.Errorf("eval: --explain: no question with id %q", *explainID)
	}
	rep.All.finish()
	for _, k := range rep.Kinds {
		k.finish()
	}
	rep.P50Micros, rep.P99Micros = percentile(lat, 0.50), percentile(lat, 0.99)

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("eval: write report: %w", err)
		}
	} else {
		printReport(stdout, &rep)
	}
	if *gate {
		if fails := g.check(&rep.All); len(fails) > 0 {
			return fmt.Errorf("eval: quality gate failed: %s", strings.Join(fails, ", "))
		}
	}
	return nil
}

// readQuestions reads a JSON Lines question file; errors name the line.
func readQuestions(path string) ([]evalQuestion, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: questions: %w", err)
	}
	defer f.Close()
	var out []evalQuestion
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var q evalQuestion
		if err := json.Unmarshal([]byte(text), &q); err != nil {
			return nil, fmt.Errorf("eval: %s:%d: %w", path, line, err)
		}
		if q.ID == "" || strings.TrimSpace(q.Query) == "" {
			return nil, fmt.Errorf("eval: %s:%d: id and query are required", path, line)
		}
		if q.Kind == "" {
			q.Kind = "none"
			if len(q.Expect) > 0 {
				q.Kind = "unknown"
			}
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: read %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("eval: %s holds no questions", path)
	}
	return out, nil
}

func percentile(v []int64, p float64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

func printReport(w io.Writer, r *evalReport) {
	fmt.Fprintf(w, "content %s, questions %s, today %s, confidence threshold %.2f\n\n", r.Content, r.Questions, r.Now, r.Threshold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tquestions\ttop-1\thelpful\tconfident wrong\tfallback on none\tlist rate\twrong first\t")
	row := func(name string, c *evalCounts) {
		top1, helpful, fall := "-", "-", "-"
		if c.Answerable > 0 {
			top1 = fmt.Sprintf("%.3f (%d/%d)", c.Top1, c.Right, c.Answerable)
			helpful = fmt.Sprintf("%.3f (%d/%d)", c.HelpfulRate, c.Helpful, c.Answerable)
		}
		if c.None > 0 {
			fall = fmt.Sprintf("%.3f (%d/%d)", c.FallNone, c.NoneFell, c.None)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.3f (%d)\t%s\t%.3f (%d)\t%.3f (%d)\t\n", name, c.Questions, top1, helpful,
			c.ConfWrongRate, c.ConfWrong, fall, c.ListRate, c.Lists, c.WrongRate, c.Wrong)
	}
	kinds := make([]string, 0, len(r.Kinds))
	for k := range r.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		row(k, r.Kinds[k])
	}
	row("all", &r.All)
	tw.Flush()
	fmt.Fprintf(w, "\nmatching latency: p50 %d µs, p99 %d µs\n", r.P50Micros, r.P99Micros)

	if len(r.Confusion) > 0 {
		fmt.Fprintln(w, "\nconfusion (expected <- answered):")
		keys := make([]string, 0, len(r.Confusion))
		for k := range r.Confusion {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %3d  %s\n", r.Confusion[k], k)
		}
	}
	if len(r.Misses) > 0 {
		fmt.Fprintln(w, "\nmisses:")
		for _, m := range r.Misses {
			got := m.Got
			if got == "" {
				got = "(fallback)"
			}
			want := strings.Join(m.Expect, "|")
			if want == "" {
				want = "(none)"
			}
			if len(m.Listed) > 1 {
				got = strings.Join(m.Listed, ", ")
			}
			fmt.Fprintf(w, "  %s [%s] %s\n      want %s, got %s (%s, %.2f)\n", m.ID, m.Kind, m.Query, want, got, m.Decision, m.Confidence)
		}
	}
	if r.Explain != nil {
		fmt.Fprintln(w, "\nexplain:")
		fmt.Fprintf(w, "  tokens: %s\n", strings.Join(r.Explain.Tokens, " / "))
		fmt.Fprintf(w, "  expansions: %s\n", strings.Join(r.Explain.Expansions, ", "))
		for _, c := range r.Explain.Candidates {
			fmt.Fprintf(w, "  %-8s %-40s confidence %.3f  bm25 %.2f  %s\n", c.Kind, c.ID, c.Confidence, c.Score, c.Title)
		}
		for _, n := range r.Explain.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
}
