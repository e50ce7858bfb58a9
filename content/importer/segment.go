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
		seg = s
	})
	segMu.Lock()
	defer segMu.Unlock()
	return seg.Cut(text, true)
}
