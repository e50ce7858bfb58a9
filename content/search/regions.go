package search

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content/search/lexicon"
)

// regionSuffixes are stripped to get the short name people use (普宁市 → 普宁).
var regionSuffixes = []string{"特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "自治州", "自治县", "新区", "地区", "林区", "省", "市", "县", "区", "盟"}

// shortRegion returns the name without its administrative suffix, or the
// name itself when too little would be left.
func shortRegion(name string) string {
	for _, suf := range regionSuffixes {
		if s, ok := strings.CutSuffix(name, suf); ok && utf8.RuneCountInString(s) >= 2 {
			if strings.HasPrefix(suf, "自治") {
				// 北川羌族自治县 is called 北川: drop the peoples too.
				s = stripPeoples(s)
			}
			return s
		}
	}
	return name
}

// peoples are the names of peoples that autonomous regions carry between
// their place name and 自治州/自治县 (阿坝藏族羌族自治州).
var peoples = []string{"族", "蒙古", "柯尔克孜", "哈萨克", "各"}

// stripPeoples removes the trailing names of peoples from an autonomous
// region's name: 阿坝藏族羌族 → 阿坝, 巴音郭楞蒙古 → 巴音郭楞. Peoples'
// names are two to four characters ending in 族 or one of the few spelled
// without it.
func stripPeoples(s string) string {
	for {
		cut := false
		r := []rune(s)
		for _, p := range peoples {
			pr := []rune(p)
			if !strings.HasSuffix(s, p) {
				continue
			}
			n := len(pr)
			if p == "族" {
				n = 0
				// A people's name with 族 is 2–4 characters (羌族, 土家族, 哈尼族, 景颇族).
				for k := 4; k >= 2; k-- {
					if len(r)-k >= 2 && isPeople(string(r[len(r)-k:])) {
						n = k
						break
					}
				}
			}
			if n > 0 && len(r)-n >= 2 {
				s, cut = string(r[:len(r)-n]), true
				break
			}
		}
		if !cut {
			return s
		}
	}
}

// peopleNames lists the peoples that name autonomous regions.
var peopleNames = map[string]bool{}

func init() {
	for _, p := range strings.Fields("藏族 羌族 彝族 苗族 土家族 侗族 布依族 哈尼族 壮族 傣族 景颇族 傈僳族 白族 回族 蒙古族 朝鲜族 瑶族 畲族 黎族 满族 仡佬族 水族 纳西族 拉祜族 佤族 怒族 独龙族 普米族 哈萨克族 柯尔克孜族 锡伯族 撒拉族 土族 保安族 东乡族 裕固族 毛南族 仫佬族 各族 达斡尔族 鄂温克族 鄂伦春族 塔吉克族 维吾尔族") {
		peopleNames[p] = true
	}
}

func isPeople(s string) bool { return peopleNames[s] }

// regionSet knows the region names of the built-in lexicon and of the
// content, and which of them is the bureau's own, city-wide one.
type regionSet struct {
	byShort  map[string]string // short name → canonical name
	aliases  []string          // every full and short name, longest first
	content  map[string]int    // canonical region → number of items naming it
	builtin  map[string]bool
	home     string // the bureau's own, broadest region of the content (see setHome)
	province map[string]bool
	parent   map[string]string // built-in: region → the region it lies in
	fullOf   map[string]string // built-in: short name → full name
	byFirst  map[rune][]string // aliases by their first character, longest first
	// words segments a stretch of text: a built-in short name (德阳) counts
	// only where it stands as a word, not inside others (初中卫生 has no 中卫).
	words func(string) []string
	// named reports whether a FAQ question or notice title of the content
	// names the region.
	named func(string) bool
}

func newRegionSet() *regionSet {
	r := &regionSet{byShort: map[string]string{}, content: map[string]int{}, builtin: map[string]bool{}, province: map[string]bool{}, parent: lexicon.RegionParents(), fullOf: map[string]string{}}
	fullOnly := lexicon.FullNameOnly()
	for _, name := range lexicon.Regions() {
		r.builtin[name] = true
		if r.parent[name] == "" && (strings.HasSuffix(name, "省") || strings.HasSuffix(name, "自治区") || strings.HasSuffix(name, "行政区") ||
			name == "北京市" || name == "天津市" || name == "上海市" || name == "重庆市") {
			r.province[name] = true
		}
		short := shortRegion(name)
		if fullOnly[name] {
			// Its short form is an ordinary word (安康) or another
			// region's (吉林): only the full name names it.
			short = name
		}
		if _, taken := r.byShort[short]; !taken {
			r.byShort[short] = name
			r.fullOf[short] = name
		}
	}
	r.rebuild()
	return r
}

// rebuild refreshes the alias list after names changed.
func (r *regionSet) rebuild() {
	seen := map[string]bool{}
	r.aliases = r.aliases[:0]
	for short, canon := range r.byShort {
		for _, a := range []string{short, canon} {
			if !seen[a] {
				seen[a] = true
				r.aliases = append(r.aliases, a)
			}
		}
	}
	sort.Slice(r.aliases, func(i, j int) bool {
		li, lj := len(r.aliases[i]), len(r.aliases[j])
		if li != lj {
			return li > lj
		}
		return r.aliases[i] < r.aliases[j]
	})
	r.byFirst = map[rune][]string{}
	for _, a := range r.aliases {
		c, _ := utf8.DecodeRuneInString(a)
		r.byFirst[c] = append(r.byFirst[c], a)
	}
	r.setHome()
}

// canonical returns the canonical form of a region name ("" stays "").
func (r *regionSet) canonical(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	if c, ok := r.byShort[name]; ok {
		return c
	}
	if c, ok := r.byShort[shortRegion(name)]; ok {
		return c
	}
	return name
}

// note records that a content item names a region; content names win over
// the built-in spelling.
func (r *regionSet) note(name string, delta int) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	short := shortRegion(name)
	canon, ok := r.byShort[short]
	if !ok || (r.builtin[canon] && r.content[canon] == 0 && delta > 0) {
		if ok && canon != name {
			r.content[name] += r.content[canon]
			delete(r.content, canon)
		}
		canon = name
		r.byShort[short] = name
	}
	r.content[canon] += delta
	if r.content[canon] <= 0 {
		delete(r.content, canon)
	}
	if !slices.Contains(r.aliases, canon) {
		r.rebuild()
		return
	}
	r.setHome()
}

// setHome picks the bureau's own, broadest region: the content region the
// lexicon places most other content regions in, else (regions the lexicon
// does not know) the most named one.
func (r *regionSet) setHome() {
	inside := map[string]int{}
	for name := range r.content {
		if p := r.parentOf(name); p != "" && r.content[p] > 0 {
			inside[p]++
		}
	}
	best, bestIn, n := "", 0, 0
	for name, c := range r.content {
		in := inside[name]
		if in > bestIn || (in == bestIn && (c > n || (c == n && name < best))) {
			best, bestIn, n = name, in, c
		}
	}
	r.home = best
}

// parentOf returns the canonical region the lexicon places name in, or "".
func (r *regionSet) parentOf(name string) string {
	p := r.parent[name]
	if p == "" {
		// The content may spell it otherwise (普宁 for 普宁市).
		if full, ok := r.fullOf[shortRegion(name)]; ok {
			p = r.parent[full]
		}
	}
	if p == "" {
		return ""
	}
	return r.canonical(p)
}

// find returns the canonical regions named in normalised text, and the text
// with those names blanked out (they are matched by region, not as words).
// At each place the longest name wins; a built-in short name the content
// does not use counts only where it stands as a word.
func (r *regionSet) find(norm string) ([]string, string) {
	out, _, rest := r.findFrom(norm)
	return out, rest
}

// originBefore and originAfter mark a place named as where the asker
// comes from (从成都转学过来, 德阳来的): the question is about here.
var (
	originBefore = []string{"从", "来自", "由", "考上", "考到", "考进", "考去"}
	// A university somewhere (考上广州的大学) is where the child goes,
	// not what the question is about.
	originAfter = []string{"的大学", "读大学", "上大学", "的高校", "读研", "来的", "过来", "转来", "转过来", "转学过来", "转入", "回来", "搬来", "搬过来"}
)

// findFrom is find that also lists the regions named only as where the
// asker comes from.
func (r *regionSet) findFrom(norm string) (regions, origins []string, rest string) {
	var out []string
	asked := map[string]bool{}
	var b strings.Builder
	last := 0 // norm[:last] is written to b
	for i := 0; i < len(norm); {
		c, size := utf8.DecodeRuneInString(norm[i:])
		match := ""
		for _, a := range r.byFirst[c] {
			if strings.HasPrefix(norm[i:], a) && r.standsAlone(norm, i, a) {
				match = a
				break
			}
		}
		if match == "" {
			i += size
			continue
		}
		canon := r.byShort[match]
		if canon == "" {
			canon = r.byShort[shortRegion(match)]
		}
		if canon == "" {
			canon = match
		}
		if !slices.Contains(out, canon) {
			out = append(out, canon)
		}
		before := strings.TrimRight(norm[:i], " ")
		after := strings.TrimLeft(norm[i+len(match):], " ")
		if !slices.ContainsFunc(originBefore, func(m string) bool { return strings.HasSuffix(before, m) }) &&
			!slices.ContainsFunc(originAfter, func(m string) bool { return strings.HasPrefix(after, m) }) {
			asked[canon] = true
		}
		b.WriteString(norm[last:i])
		b.WriteByte(' ')
		i += len(match)
		last = i
	}
	for _, c := range out {
		if !asked[c] {
			origins = append(origins, c)
		}
	}
	if last == 0 {
		return out, origins, norm
	}
	b.WriteString(norm[last:])
	return out, origins, b.String()
}

// standsAlone reports whether the alias at norm[i:] names a region there:
// always for the content's own regions and for full names; a built-in short
// name only where the segmenter reads it as a word.
func (r *regionSet) standsAlone(norm string, i int, alias string) bool {
	canon := r.byShort[alias]
	if canon == "" || canon == alias || r.content[canon] > 0 || !r.builtin[canon] || r.words == nil {
		return true
	}
	from := strings.LastIndexByte(norm[:i], ' ') + 1
	to := strings.IndexByte(norm[i:], ' ')
	if to < 0 {
		to = len(norm)
	} else {
		to += i
	}
	start, end := i-from, i-from+len(alias)
	pos, startOK := 0, start == 0
	for _, w := range r.words(norm[from:to]) {
		pos += len(w)
		if pos == start {
			startOK = true
		}
		if pos == end {
			return startOK
		}
		if pos > end {
			return false
		}
	}
	return false
}

// isShortName reports whether w is a region's short name (绵阳, not
// 绵阳市): a place name that can begin a school's name.
func (r *regionSet) isShortName(w string) bool {
	c, ok := r.byShort[w]
	return ok && c != w && shortRegion(c) == w
}

// wide reports whether a region covers the whole bureau's area: none, the
// bureau's own, or a province.
func (r *regionSet) wide(name string) bool {
	return name == "" || name == r.home || r.province[name]
}

// inside reports whether a region lies in the bureau's area: one its content
// names, or one the lexicon places inside the bureau's own region.
func (r *regionSet) inside(name string) bool {
	return r.wide(name) || r.content[name] > 0 || (r.home != "" && r.within(name, r.home))
}

// within reports whether the lexicon places region name inside region anc,
// at any depth.
func (r *regionSet) within(name, anc string) bool {
	for range 4 {
		name = r.parentOf(name)
		if name == "" {
			return false
		}
		if name == anc {
			return true
		}
	}
	return false
}

// homeIn reports whether a region is one the bureau's own region lies in
// (its province): naming it does not leave the bureau's area. When the
// lexicon does not place the bureau's region, every province counts.
func (r *regionSet) homeIn(name string) bool {
	if r.home == "" || r.parentOf(r.home) == "" {
		return r.province[name]
	}
	return r.within(r.home, name)
}

// regionPlan is what a question asks of regions, worked out once per query.
type regionPlan struct {
	// elsewhere: the question names a place neither the lexicon nor the
	// content knows (濠江区 of a set that names two other districts): no
	// other district's or county's item answers it.
	elsewhere bool
	want      string // the county-level region wanted, "" for none
	stated    bool   // named in the question (not only in the profile)
	outside   bool   // names only places outside the bureau's area
}

// plan works out what the regions named in a question (asked) and the
// profile's region ask for.
func (r *regionSet) plan(asked []string, profile string) regionPlan {
	var p regionPlan
	outside := false
	for _, a := range asked {
		switch {
		case a == r.home || r.homeIn(a):
		case r.content[a] > 0 || (r.home != "" && r.within(a, r.home)):
			if p.want == "" {
				p.want, p.stated = a, true
			}
		case r.named != nil && r.named(a):
			// The content's own statements speak of it (a county
			// bureau's notices name their city): it is in scope.
			if p.want == "" {
				p.want, p.stated = a, true
			}
		default:
			outside = true
		}
	}
	p.outside = outside && p.want == "" && !slices.Contains(asked, r.home)
	if p.want == "" && profile != "" && !r.wide(r.canonical(profile)) {
		p.want = r.canonical(profile)
	}
	return p
}

// notPlaceWords end in 区/县/镇 but name no place (市区, 校区, 小区).
var notPlaceWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("市区 城区 社区 校区 园区 小区 学区 片区 郊区 山区 景区 辖区 新区 老区 灾区 地区 街区 住宅区 开发区 保护区 示范区 试验区 实验区 " +
		"功能区 生活区 教学区 宿舍区 本区 全区 各区 我区 该区 外区 跨区 分区 禁区 误区 专区 赛区 考区 厂区 矿区 林区 牧区 库区 港区 营区 湾区 高新区 " +
		"老城区 主城区 中心区 市辖区 行政区 服务区 停车区 候考区 等候区 " +
		"本县 全县 各县 我县 该县 外县 郡县 县城 乡镇 城镇 村镇 小镇 古镇 全镇 本镇 各镇 我镇") {
		notPlaceWords[w] = true
	}
}

// unknownPlace returns a district, county or town the text names that is
// no region the set knows, or "".
func (r *regionSet) unknownPlace(body string) string {
	for _, chunk := range strings.Fields(body) {
		// A district or county name the lexicon may not hold.
		for name, prefix := range placeNames(chunk) {
			if strings.ContainsAny(prefix, "个们哪那这本全各该外我你他其每同此某城市省乡村老新小大区县镇的在是到去和与或") || notPlaceWords[name] {
				continue
			}
			// The last two characters before 区/县 may be a place word
			// after another word (在濠江区): try the shortest name too.
			if _, known := r.byShort[prefix]; known {
				continue
			}
			if _, known := r.byShort[name]; known {
				continue
			}
			return name
		}
	}
	return ""
}

// regionFactor scales a document's confidence by how its region fits the
// question's: a named region never gets another county's answer, a place
// outside the bureau's area gets none; without a region, the city-wide
// answer is preferred. mentioned says whether the document's title or
// question names the wanted region.
func (r *regionSet) regionFactor(p regionPlan, docRegion string, mentioned bool) (float64, string) {
	switch {
	case p.outside:
		return 0, "region outside the bureau's area"
	case p.elsewhere && !r.wide(docRegion) && !mentioned:
		return 0, "another place than the one named"
	case p.want == "":
		if r.wide(docRegion) {
			return 1, ""
		}
		return 0.85, "county answer, no county asked"
	case docRegion == p.want || mentioned:
		return 1.04, "region matches"
	case r.wide(docRegion):
		return 0.9, "city-wide answer for a county"
	case p.stated:
		return 0, "other county"
	default:
		return 0.6, "other county than the profile's"
	}
}
