package importer

import (
	"bufio"
	"strings"
	"sync"

	"github.com/go-ego/gse"

	"github.com/gdjysjyj/edubot/content/search/lexicon"
)

// The default segmenter: gse with the compact word list the search engine
// embeds (about 0.2 s and 45 MB, paid on the first import, never at
// start-up), plus gse's HMM for words the list lacks. serve passes the
// engine's analyser in Options.Segment instead, so nothing is loaded twice.
var (
	segOnce sync.Once
	seg     *gse.Segmenter
	segMu   sync.Mutex // gse's Cut is not documented as safe for concurrent use
)

func defaultCut(text string) []string {
	segOnce.Do(func() {
		s := &gse.Segmenter{SkipLog: true}
		s.Dict = gse.NewDict()
		s.Init()
		s.Load = true
		// Without the list, HMM alone still segments; keep going.
		_ = s.Reader(bufio.NewReader(strings.NewReader(lexicon.Words())))
		// Terms of the bureau's articles the general list splits wrongly
		// (教育系统 → 教育系/统). Added before any Cut: AddToken races with it.
		for _, w := range strings.Fields(domainWords) {
			_ = s.AddToken(w, 5000)
		}
		seg = s
	})
	segMu.Lock()
	defer segMu.Unlock()
	return seg.Cut(text, true)
}

const domainWords = `教育系统 教育行政部门 疫情防控 常态化 开学 返校 复学 复课 开学复课 招生 招生考试 中考 高考
	学生资助 国家助学金 课后服务 校外培训 双减 防溺水 教师资格 义务教育 学前教育 普通高中 中职学校
	心理健康 食品安全 校园安全 网络教学 停课不停学 家庭经济困难 随迁子女 寄宿生 新生报到 学籍 转学
	应急演练 应急预案 安全教育 家校协同 教育局 教育厅 中小学 幼儿园 学生 教师 家长`
