package content_test

import (
	"testing"
	"testing/fstest"

	"github.com/gdjysjyj/edubot/content"
)

// An export loads back unchanged when text holds tabs or carriage
// returns (pasted from a spreadsheet or Word), which go-yaml mangles in
// block style.
func TestExportKeepsTabsAndCarriageReturns(t *testing.T) {
	set := &content.Set{
		FAQs:  []*content.FAQ{{ID: "f1", Question: "几号\t开学", Answer: "九月\t一日\r\n下午", File: "faq.yaml"}},
		Rules: []*content.Rule{{ID: "r1", Match: content.MatchContains, Keywords: []string{"人\t工"}, Reply: "请\t留言"}},
	}
	files, err := set.Files()
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for n, d := range files {
		fsys[n] = &fstest.MapFile{Data: d}
	}
	got, err := content.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got.FAQs[0].Answer != set.FAQs[0].Answer || got.FAQs[0].Question != set.FAQs[0].Question || got.Rules[0].Reply != "请\t留言" || got.Rules[0].Keywords[0] != "人\t工" {
		t.Errorf("loaded back as %+v and %+v", got.FAQs[0], got.Rules[0])
	}
}
