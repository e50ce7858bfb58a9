package content

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// A term names the school term or year an item applies to:
//
//	2026-autumn   秋季学期 2026–27 (from 1 Aug 2026 to 31 Jan 2027)
//	2027-spring   春季学期 2027 (from 1 Feb to 31 Jul 2027)
//	2026-2027     the school year (from 1 Aug 2026 to 31 Jul 2027)
//
// Items may also (or instead) give valid_from and valid_until.
var termRe = regexp.MustCompile(`^(\d{4})-(autumn|spring|(\d{4}))$`)

// TermRange returns the first and last day of a term ("" gives zero times).
func TermRange(term string) (from, until time.Time, err error) {
	if term == "" {
		return time.Time{}, time.Time{}, nil
	}
	m := termRe.FindStringSubmatch(term)
	if m == nil {
		return time.Time{}, time.Time{}, fmt.Errorf("want YYYY-autumn, YYYY-spring or YYYY-YYYY, got %q", term)
	}
	y, _ := strconv.Atoi(m[1])
	day := func(y int, mo time.Month, d int) time.Time { return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC) }
	switch m[2] {
	case "autumn":
		return day(y, time.August, 1), day(y+1, time.January, 31), nil
	case "spring":
		return day(y, time.February, 1), day(y, time.July, 31), nil
	}
	y2, _ := strconv.Atoi(m[3])
	if y2 != y+1 {
		return time.Time{}, time.Time{}, fmt.Errorf("a school year is two years in a row (2026-2027), got %q", term)
	}
	return day(y, time.August, 1), day(y2, time.July, 31), nil
}

// Period is the time an item applies to: its valid_from/valid_until when
// given, else its term's range; zero times where nothing is said.
func Period(term string, validFrom, validUntil Date) (from, until time.Time) {
	from, until, _ = TermRange(term)
	if !validFrom.IsZero() {
		from = validFrom.Time
	}
	if !validUntil.IsZero() {
		until = validUntil.Time
	}
	return from, until
}

// checkPeriod validates an item's term and valid dates.
func checkPeriod(id, term string, validFrom, validUntil Date) error {
	if _, _, err := TermRange(term); err != nil {
		return fieldErr(id, "term", "%s", err.Error())
	}
	if !validFrom.IsZero() && !validUntil.IsZero() && validUntil.Before(validFrom.Time) {
		return fieldErr(id, "valid_until", "is before valid_from")
	}
	return nil
}

// Period returns the time the notice applies to (see Period).
func (n *Notice) Period() (from, until time.Time) { return Period(n.Term, n.ValidFrom, n.ValidUntil) }

// Period returns the time the FAQ applies to (see Period).
func (f *FAQ) Period() (from, until time.Time) { return Period(f.Term, f.ValidFrom, f.ValidUntil) }
