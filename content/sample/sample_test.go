package sample

import (
	"slices"
	"strings"
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

func TestSampleLoads(t *testing.T) {
	set, err := content.Load(FS())
	if err != nil {
		t.Fatalf("sample set does not load: %v", err)
	}
	if len(set.Notices) < 10 || len(set.FAQs) < 15 || len(set.Rules) < 5 || len(set.Synonyms) < 10 {
		t.Errorf("sample set too small: %d notices, %d faqs, %d rules, %d synonym groups",
			len(set.Notices), len(set.FAQs), len(set.Rules), len(set.Synonyms))
	}
}

// The two seed articles must be in the set, cleaned: real title and date,
// no site chrome or HTML debris.
func TestSampleHoldsCleanedSeeds(t *testing.T) {
	set, err := content.Load(FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ id, title, date string }{
		{"n-2020-0207-epidemic-meeting", "揭阳市教育系统召开防控新型冠状病毒感染的肺炎疫情工作座谈会", "2020-02-07"},
		{"n-2020-0618-shanxi-epidemic", "山西省教育厅召开全省教育系统疫情防控工作推进会议", "2020-06-18"},
	} {
		n := set.Notice(want.id)
		if n == nil {
			t.Fatalf("notice %s missing", want.id)
		}
		if n.Title != want.title || n.Date.String() != want.date {
			t.Errorf("%s: got %q %s, want %q %s", want.id, n.Title, n.Date, want.title, want.date)
		}
		for _, chrome := range []string{"<", ">", "jpg/", "快速评论", "Copyright", "Powered by", "粤ICP备", "路过", "二维码", "摘要"} {
			if strings.Contains(n.Body, chrome) {
				t.Errorf("%s: body still holds %q", want.id, chrome)
			}
		}
		// The broken fragment repeats its first paragraph; the notice must not.
		first := strings.SplitN(n.Body, "\n", 2)[0]
		if strings.Count(n.Body, first) != 1 {
			t.Errorf("%s: first paragraph appears %d times", want.id, strings.Count(n.Body, first))
		}
	}
}

// The region follow-up needs the same question answered per region:
// the city and at least two counties.
func TestSampleHasPerRegionSchoolStart(t *testing.T) {
	set, err := content.Load(FS())
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	for _, f := range set.FAQs {
		if slices.Contains(f.Keywords, "开学") && f.Region != "" && !slices.Contains(regions, f.Region) {
			regions = append(regions, f.Region)
		}
	}
	if !slices.Contains(regions, "揭阳市") || len(regions) < 3 {
		t.Errorf("school-start FAQs cover regions %v; want the city and at least two counties", regions)
	}
	kinds := map[string]bool{}
	for _, r := range set.Rules {
		kinds[r.Match] = true
	}
	if !kinds[content.MatchExact] || !kinds[content.MatchContains] {
		t.Errorf("rules use match modes %v; want exact and contains", kinds)
	}
}
