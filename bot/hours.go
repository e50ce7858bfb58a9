package bot

import (
	"fmt"
	"strings"
	"time"
)

// OfficeHours are the weekly hours when people answer hand-offs, e.g.
// "Mon-Fri 08:30-12:00,14:30-17:30; Sat 09:00-12:00". Empty means nobody
// answers live: hand-offs always leave a note for staff.
type OfficeHours struct {
	days [7][]span // by time.Weekday
	set  bool      // parsed (an empty result then means "no hours", not "default")
}

type span struct{ from, to int } // minutes since midnight, [from, to)

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseOfficeHours parses groups "DAYS HH:MM-HH:MM[,HH:MM-HH:MM…]"
// separated by ";"; DAYS is a day, a range (Mon-Fri) or a list (Mon,Wed).
func ParseOfficeHours(s string) (OfficeHours, error) {
	oh := OfficeHours{set: true}
	for group := range strings.SplitSeq(s, ";") {
		group = strings.TrimSpace(group)
		if group == "" {
			continue
		}
		dayPart, timePart, ok := strings.Cut(group, " ")
		if !ok {
			return OfficeHours{}, fmt.Errorf("%q: want DAYS HH:MM-HH:MM, e.g. Mon-Fri 08:30-12:00", group)
		}
		var days []time.Weekday
		for d := range strings.SplitSeq(dayPart, ",") {
			from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(d)), "-")
			a, ok1 := weekdays[from]
			b, ok2 := weekdays[to]
			if !isRange {
				b, ok2 = a, ok1
			}
			if !ok1 || !ok2 {
				return OfficeHours{}, fmt.Errorf("%q: unknown day in %q (use Mon Tue Wed Thu Fri Sat Sun)", group, d)
			}
			for w := a; ; w = (w + 1) % 7 {
				days = append(days, w)
				if w == b {
					break
				}
			}
		}
		for t := range strings.SplitSeq(timePart, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			a, b, ok := strings.Cut(t, "-")
			from, err1 := parseClock(a)
			to, err2 := parseClock(b)
			if !ok || err1 != nil || err2 != nil || to <= from {
				return OfficeHours{}, fmt.Errorf("%q: bad time range %q (want HH:MM-HH:MM, start before end)", group, t)
			}
			for _, w := range days {
				oh.days[w] = append(oh.days[w], span{from, to})
			}
		}
	}
	return oh, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Empty reports whether there are no hours at all.
func (o OfficeHours) Empty() bool {
	for _, d := range o.days {
		if len(d) > 0 {
			return false
		}
	}
	return true
}

// Open reports whether t (already in the office's time zone) falls in the hours.
func (o OfficeHours) Open(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	for _, s := range o.days[t.Weekday()] {
		if m >= s.from && m < s.to {
			return true
		}
	}
	return false
}

var dayNames = [7]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// String describes the hours in Chinese, e.g. "周一至周五 08:30—12:00、14:30—17:30".
func (o OfficeHours) String() string {
	if o.Empty() {
		return "暂无人工值守时间"
	}
	// Group consecutive days (Monday first) with the same spans.
	order := []time.Weekday{1, 2, 3, 4, 5, 6, 0}
	var parts []string
	for i := 0; i < len(order); {
		w := order[i]
		j := i
		for j+1 < len(order) && sameSpans(o.days[order[j+1]], o.days[w]) {
			j++
		}
		if len(o.days[w]) > 0 {
			days := dayNames[w]
			if j > i {
				days += "至" + dayNames[order[j]]
			}
			var spans []string
			for _, s := range o.days[w] {
				spans = append(spans, fmt.Sprintf("%02d:%02d—%02d:%02d", s.from/60, s.from%60, s.to/60, s.to%60))
			}
			parts = append(parts, days+" "+strings.Join(spans, "、"))
		}
		i = j + 1
	}
	return strings.Join(parts, "；")
}

func sameSpans(a, b []span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
