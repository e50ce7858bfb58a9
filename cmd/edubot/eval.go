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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
)

func init() {
	commands["eval"] = command{
		summary: "measure answer quality on a question file (top-1, wrong answers, fallbacks)",
		run:     runEval,
	}
}

// Quality targets of the gate (issue 3).
const (
	gateTop1         = 0.92
	gateWrong        = 0.03
	gateFallbackNone = 0.90
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
	Got        string   `json:"got"` // answered id, first choice, or "" for a fallback
	Decision   string   `json:"decision"`
	Confidence float64  `json:"confidence"`
	Right      bool     `json:"right"`
	Wrong      bool     `json:"wrong"`
	Micros     int64    `json:"micros"`
}

// evalCounts are the figures of a group of questions.
type evalCounts struct {
	Questions  int     `json:"questions"`
	Answerable int     `json:"answerable"`
	Right      int     `json:"right"`
	Wrong      int     `json:"wrong"`
	None       int     `json:"none"`
	NoneFell   int     `json:"none_fallback"`
	Lists      int     `json:"lists"`
	Top1       float64 `json:"top1"`
	WrongRate  float64 `json:"wrong_rate"`
	FallNone   float64 `json:"fallback_none"`
	ListRate   float64 `json:"list_rate"`
}

func (c *evalCounts) add(o evalOutcome) {
	c.Questions++
	if len(o.Expect) > 0 {
		c.Answerable++
		if o.Right {
			c.Right++
		}
	} else {
		c.None++
		if o.Got == "" {
			c.NoneFell++
		}
	}
	if o.Wrong {
		c.Wrong++
	}
	if o.Decision == "choices" {
		c.Lists++
	}
}

func (c *evalCounts) finish() {
	c.Top1 = ratio(c.Right, c.Answerable)
	c.WrongRate = ratio(c.Wrong, c.Questions)
	c.FallNone = ratio(c.NoneFell, c.None)
	c.ListRate = ratio(c.Lists, c.Questions)
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
	gate := fl.Bool("gate", false, fmt.Sprintf("fail below the targets (top-1 ≥ %.2f, wrong ≤ %.2f, fallback on unanswerable ≥ %.2f)", gateTop1, gateWrong, gateFallbackNone))
	threshold := fl.Float64("threshold", 0, "confidence threshold below which the bot falls back (default: the engine's)")
	debug := fl.Bool("debug", false, "log every match's explanation at debug level to stderr")
	if err := fl.Parse(args); err != nil {
		return err
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
	eng, err := search.New(set, search.Options{Logger: logger, Threshold: *threshold, Now: func() time.Time { return now }})
	if err != nil {
		return fmt.Errorf("eval: build index: %w", err)
	}

	th := *threshold
	if th <= 0 {
		th = search.DefaultThreshold
	}
	rep := evalReport{Content: label, Questions: *questions, Now: now.Format(content.DateLayout), Threshold: th,
		Kinds: map[string]*evalCounts{}, Confusion: map[string]int{}}
	var lat []int64
	for _, q := range qs {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		r := eng.Match(ctx, search.Query{Text: q.Query, Now: now, Explain: q.ID == *explainID})
		us := time.Since(start).Microseconds()
		lat = append(lat, us)
		o := evalOutcome{ID: q.ID, Query: q.Query, Kind: q.Kind, Expect: q.Expect, Decision: r.Decision.String(), Micros: us}
		switch r.Decision {
		case search.Answer:
			o.Got, o.Confidence = r.Best.ID, r.Best.Confidence
		case search.Choices:
			o.Got, o.Confidence = r.Choices[0].ID, r.Choices[0].Confidence
		default:
			if len(r.Top) > 0 {
				o.Confidence = r.Top[0].Confidence
			}
		}
		o.Right = len(q.Expect) > 0 && slices.Contains(q.Expect, o.Got)
		o.Wrong = o.Got != "" && !slices.Contains(q.Expect, o.Got)
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
		if !o.Right && !(len(q.Expect) == 0 && o.Got == "") {
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
		var fails []string
		if rep.All.Top1 < gateTop1 {
			fails = append(fails, fmt.Sprintf("top-1 %.3f < %.2f", rep.All.Top1, gateTop1))
		}
		if rep.All.WrongRate > gateWrong {
			fails = append(fails, fmt.Sprintf("wrong %.3f > %.2f", rep.All.WrongRate, gateWrong))
		}
		if rep.All.None > 0 && rep.All.FallNone < gateFallbackNone {
			fails = append(fails, fmt.Sprintf("fallback on unanswerable %.3f < %.2f", rep.All.FallNone, gateFallbackNone))
		}
		if len(fails) > 0 {
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
	fmt.Fprintln(tw, "kind\tquestions\ttop-1\twrong\tfallback on none\tlist rate\t")
	row := func(name string, c *evalCounts) {
		top1, fall := "-", "-"
		if c.Answerable > 0 {
			top1 = fmt.Sprintf("%.3f (%d/%d)", c.Top1, c.Right, c.Answerable)
		}
		if c.None > 0 {
			fall = fmt.Sprintf("%.3f (%d/%d)", c.FallNone, c.NoneFell, c.None)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.3f (%d)\t%s\t%.3f (%d)\t\n", name, c.Questions, top1, c.WrongRate, c.Wrong, fall, c.ListRate, c.Lists)
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
