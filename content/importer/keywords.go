package importer

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content/search/lexicon"
)

// stopWords are frequent in any official article and say nothing about
// this one.
var stopWords = map[string]bool{}

func init() {
	// Function words and vague words (关于, 对于, 情况) the matcher ignores
	// are no keywords either.
	for _, w := range lexicon.StopWords() {
		stopWords[w] = true
	}
	for _, w := range strings.Fields(`工作 进一步 要求 会议 同志 进行 开展 加强 各级 一是 二是 三是 四是 五是 六是 七是 八是
		我们 大家 接下来 今天 这个 这些 以及 提出 作出 作为 有关 相关 情况 问题 方面 部门 全面 确保 做好 推进 落实 切实 坚持
		通过 对于 按照 根据 其中 已经 目前 同时 如何 所有 一些 一个 没有 可以 需要 进行 不断 充分 高度 重要 积极 认真 主动
		上午 下午 时间 期间 当前 通知 公告 今年 明年 去年 工作会议 讲话 主持 出席 强调 指出 表示 认为 希望 要求 有效 不得 不能`) {
		stopWords[w] = true
	}
}

// NewDocFreq returns document frequencies over texts (e.g. the titles and
// summaries of the runtime notices), for Options.DocFreq. seg nil means the
// default segmenter.
func NewDocFreq(texts []string, seg func(string) []string) func(string) (int, int) {
	if seg == nil {
		seg = defaultCut
	}
	df := map[string]int{}
	for _, t := range texts {
		seen := map[string]bool{}
		words := seg(t)
		for i, w := range words {
			seen[w] = true
			if i > 0 {
				seen[words[i-1]+w] = true
			}
		}
		for w := range seen {
			df[w]++
		}
	}
	n := len(texts)
	return func(w string) (int, int) { return df[w], n }
}

// keywords picks the words that characterise the article: TF-IDF over the
// segmented title and body (the title counts double), with IDF from
// opts.DocFreq when given. Adjacent words that recur together (疫情+防控)
// count as one compound, so the keywords are the article's own terms.
func keywords(title string, body []string, opts Options) []string {
	var paras []string
	for _, p := range body {
		if !strings.HasPrefix(p, "![") { // pictures: only addresses
			paras = append(paras, p)
		}
	}
	seg := opts.Segment
	if seg == nil {
		seg = defaultCut
	}
	// The title counts double for the words, but compounds come from the
	// body only: a pair the title glues once (春季学期+校车 → 学期校车
	// across a word boundary) would otherwise count twice and pass.
	titleWords := seg(title)
	words := append(append(slices.Clone(titleWords), titleWords...), seg(strings.Join(paras, "\n"))...)
	bodyFrom := 2 * len(titleWords)
	tf := map[string]float64{}
	type pair struct{ a, b string }
	pairs := map[pair]int{}
	for i, w := range words {
		w = strings.TrimSpace(w)
		words[i] = w
		if goodWord(w) {
			tf[w]++
		}
		if i > bodyFrom && allHan(words[i-1]) && allHan(w) {
			pairs[pair{words[i-1], w}]++
		}
	}
	// Decide on compounds against the words' own counts, in a fixed order,
	// so the result does not depend on map order.
	base := maps.Clone(tf)
	keys := slices.Collect(maps.Keys(pairs))
	slices.SortFunc(keys, func(x, y pair) int { return strings.Compare(x.a+"|"+x.b, y.a+"|"+y.b) })
	for _, p := range keys {
		c := pairs[p]
		w := p.a + p.b
		// A compound only when the pair is most of both parts' uses
		// (疫情+防控 in an article on epidemic control), not a chance
		// neighbourhood (教育系统+疫情), and never with an empty word.
		if c < 2 || !goodWord(w) || stopWords[p.a] || stopWords[p.b] ||
			2*c < int(max(base[p.a], base[p.b])) || utf8.RuneCountInString(p.a) < 2 || utf8.RuneCountInString(p.b) < 2 {
			continue
		}
		tf[w] += float64(c)
		tf[p.a] -= float64(c)
		tf[p.b] -= float64(c)
	}
	type scored struct {
		w string
		s float64
	}
	var list []scored
	for w, f := range tf {
		if f <= 0 || !goodWord(w) {
			continue
		}
		idf := 1.0
		if opts.DocFreq != nil {
			if df, n := opts.DocFreq(w); n > 0 {
				idf = math.Log(float64(n+1)/float64(df+1)) + 1
			}
		}
		// Longer words are more specific; single characters never qualify.
		weight := math.Log(float64(utf8.RuneCountInString(w)) + 1)
		list = append(list, scored{w, f * idf * weight})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].s != list[j].s {
			return list[i].s > list[j].s
		}
		return list[i].w < list[j].w
	})
	var out []string
	for _, c := range list {
		if len(out) == opts.MaxKeywords {
			break
		}
		dup := false
		for _, o := range out {
			if strings.Contains(o, c.w) || strings.Contains(c.w, o) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c.w)
		}
	}
	return out
}

func allHan(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

func goodWord(w string) bool {
	n := utf8.RuneCountInString(w)
	if n < 2 || n > 8 || stopWords[w] || strings.HasPrefix(w, "不") {
		return false
	}
	for _, r := range w {
		if !unicode.Is(unicode.Han, r) && !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
