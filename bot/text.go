package bot

import (
	"strconv"
	"strings"
	"unicode"
)

// compact lower-cases s, makes full-width letters and digits half-width and
// drops spaces, punctuation and symbols: the form commands are compared in.
func compact(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r >= '！' && r <= '～' { // full-width ASCII block
			r -= 0xFEE0
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

var cnNum = map[rune]int{'一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9, '十': 10}

// parseNumber reads 1–99 written as 2, ２, 二, 十二 or 二十.
func parseNumber(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, len(s) <= 2 && n > 0
	}
	rs := []rune(s)
	val := func(r rune) (int, bool) { v, ok := cnNum[r]; return v, ok && v < 10 }
	switch len(rs) {
	case 1:
		v, ok := cnNum[rs[0]]
		return v, ok
	case 2:
		if rs[0] == '十' { // 十二
			v, ok := val(rs[1])
			return 10 + v, ok
		}
		if rs[1] == '十' { // 二十
			v, ok := val(rs[0])
			return v * 10, ok
		}
	case 3:
		if rs[1] == '十' { // 二十三
			a, ok1 := val(rs[0])
			c, ok2 := val(rs[2])
			return a*10 + c, ok1 && ok2
		}
	}
	return 0, false
}

// parseChoice reads a message that picks a numbered item: 2, ２, 二,
// 第二个, 第2条, 选3. c is the compact form of the message.
func parseChoice(c string) (int, bool) {
	for _, p := range []string{"我选", "选择", "选", "看", "第"} {
		if strings.HasPrefix(c, p) {
			c = strings.TrimPrefix(c, p)
			break
		}
	}
	c = strings.TrimPrefix(c, "第")
	for _, s := range []string{"个吧", "个", "条", "项", "篇", "号", "吧"} {
		if strings.HasSuffix(c, s) {
			c = strings.TrimSuffix(c, s)
			break
		}
	}
	return parseNumber(c)
}

// profileMarkers say that the user is talking about themselves.
var profileMarkers = []string{"我是", "我在", "我们是", "我家", "孩子", "小孩", "儿子", "女儿", "闺女", "我读", "我上", "在读", "就读"}

// selfWords are the words people describe themselves with (我是普宁的家长,
// 孩子读初二): a message of only these, a region and a grade says nothing
// but who the user is. The role itself is the matcher's reading.
var selfWords = []string{"家长", "爸爸", "妈妈", "父亲", "母亲", "监护人", "爷爷", "奶奶", "外婆", "外公",
	"老师", "教师", "班主任", "校长", "学生", "考生", "工作人员", "职工", "教职工",
	"孩子", "小孩", "儿子", "女儿", "闺女", "娃", "我", "我们", "我家", "家", "一名", "一位", "一个",
	"读", "在读", "就读", "上", "现在", "今年", "目前", "正在"}
