package importer_test

import (
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content/importer"
)

// Staff paste whatever a scraper gave them: any page is a draft or an
// error, never a panic.
func FuzzImport(f *testing.F) {
	f.Add([]byte("关于2026年秋季开学的通知\n发布时间：2026-08-20\n各学校：\n9月1日开学。\n揭阳市教育局"))
	f.Add([]byte("<html><head><title>通知</title></head><body><div class=nav>首页</div><p>9月1日开学。</p></body></html>"))
	f.Add([]byte("<p>通知<br>8月20日<p>内容"))
	opts := importer.Options{Now: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), Source: "揭阳市教育局"}
	// Load the default segmenter's word list here, once per fuzzing
	// process: loaded lazily by the first input that reaches the keywords
	// it took 1–10 s under coverage instrumentation, and Go's fuzzer took
	// that input for a hang (the seed 3f398afdc4b7cea6).
	importer.NewDocFreq([]string{"开学通知"}, nil)
	f.Fuzz(func(t *testing.T, page []byte) {
		if len(page) > 64<<10 {
			return
		}
		d, err := importer.Import(page, opts)
		if err == nil {
			if d == nil || d.Notice == nil {
				t.Fatal("no draft and no error")
			}
			if _, err := d.Markdown(); err != nil {
				t.Fatalf("draft does not render: %v", err)
			}
		}
	})
}
