package wechat

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"unicode/utf8"
)

// wireMessage is the part of WeChat's message XML the bot reads. Decoding
// into silenceper's MixMessage (over a hundred fields, nested paths) by
// reflection was most of the cost of opening a message (BenchmarkOpen).
// Encrypt is set in safe and compatible mode's outer envelope.
type wireMessage struct {
	XMLName       xml.Name `xml:"xml"`
	ToUserName    string   `xml:"ToUserName"`
	FromUserName  string   `xml:"FromUserName"`
	CreateTime    int64    `xml:"CreateTime"`
	MsgType       string   `xml:"MsgType"`
	MsgID         int64    `xml:"MsgId"` // messages
	TemplateMsgID int64    `xml:"MsgID"` // mass-send and template events
	Content       string   `xml:"Content"`
	Recognition   string   `xml:"Recognition"`
	Event         string   `xml:"Event"`
	EventKey      string   `xml:"EventKey"`
	Status        string   `xml:"Status"`
	TotalCount    int64    `xml:"TotalCount"`
	FilterCount   int64    `xml:"FilterCount"`
	SentCount     int64    `xml:"SentCount"`
	ErrorCount    int64    `xml:"ErrorCount"`
	Encrypt       string   `xml:"Encrypt"`
}

// decodeWire reads WeChat's flat XML into m: a direct scan for the shape
// WeChat sends (<xml>, then elements holding text or CDATA), encoding/xml
// for anything else (entities, attributes, nesting, comments, a
// declaration), so both always agree (FuzzDecodeWire) and errors are
// encoding/xml's.
func decodeWire(b []byte, m *wireMessage) error {
	var fast wireMessage
	if scanFlat(b, &fast) {
		*m = fast
		return nil
	}
	*m = wireMessage{}
	return xml.Unmarshal(b, m)
}

// scanFlat is the fast path of decodeWire; false means "not the simple
// shape": the caller falls back to encoding/xml.
func scanFlat(b []byte, m *wireMessage) bool {
	b = trimSpace(b)
	rest, ok := bytes.CutPrefix(b, []byte("<xml>"))
	if !ok {
		return false
	}
	for {
		rest = trimSpace(rest)
		if bytes.HasPrefix(rest, []byte("</xml>")) {
			// encoding/xml reads the root element only: what follows
			// is not read either way.
			return true
		}
		if len(rest) < 2 || rest[0] != '<' {
			return false
		}
		end := 1
		for end < len(rest) && nameByte(rest[end]) {
			end++
		}
		if end == 1 || end == len(rest) || rest[end] != '>' {
			return false // attributes, a self-closing tag, a comment, a prefix…
		}
		name := rest[1:end]
		rest = rest[end+1:]
		var val []byte
		var copied bool
		for {
			if bytes.HasPrefix(rest, []byte("<![CDATA[")) {
				i := bytes.Index(rest[9:], []byte("]]>"))
				if i < 0 {
					return false
				}
				part := rest[9 : 9+i]
				if !plainText(part, true) {
					return false
				}
				val, copied = appendPart(val, part, copied)
				rest = rest[9+i+3:]
				continue
			}
			i := bytes.IndexByte(rest, '<')
			if i < 0 {
				return false
			}
			if i > 0 {
				if !plainText(rest[:i], false) {
					return false
				}
				val, copied = appendPart(val, rest[:i], copied)
				rest = rest[i:]
				continue
			}
			break
		}
		// rest starts with '<': it must close this element.
		if len(rest) < len(name)+3 || rest[1] != '/' || !bytes.Equal(rest[2:2+len(name)], name) || rest[2+len(name)] != '>' {
			return false // a child element, or a mismatched end
		}
		rest = rest[len(name)+3:]
		if !m.set(name, val) {
			return false
		}
	}
}

// appendPart joins the text and CDATA parts of one element without copying
// the common case of a single part.
func appendPart(val, part []byte, copied bool) ([]byte, bool) {
	if val == nil {
		return part, false
	}
	if !copied {
		val = append([]byte(nil), val...)
	}
	return append(val, part...), true
}

// set stores one element's text. Numbers parse as encoding/xml parses them
// (empty is 0, else spaces trimmed); one that does not parse is left to
// encoding/xml for its error.
func (m *wireMessage) set(name, val []byte) bool {
	num := func(p *int64) bool {
		if len(val) == 0 {
			*p = 0
			return true
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(val)), 10, 64)
		*p = n
		return err == nil
	}
	switch string(name) {
	case "ToUserName":
		m.ToUserName = string(val)
	case "FromUserName":
		m.FromUserName = string(val)
	case "CreateTime":
		return num(&m.CreateTime)
	case "MsgType":
		m.MsgType = string(val)
	case "MsgId":
		return num(&m.MsgID)
	case "MsgID":
		return num(&m.TemplateMsgID)
	case "Content":
		m.Content = string(val)
	case "Recognition":
		m.Recognition = string(val)
	case "Event":
		m.Event = string(val)
	case "EventKey":
		m.EventKey = string(val)
	case "Status":
		m.Status = string(val)
	case "TotalCount":
		return num(&m.TotalCount)
	case "FilterCount":
		return num(&m.FilterCount)
	case "SentCount":
		return num(&m.SentCount)
	case "ErrorCount":
		return num(&m.ErrorCount)
	case "Encrypt":
		m.Encrypt = string(val)
	}
	return true
}

// nameByte: the element names WeChat uses; anything else (a namespace
// prefix, non-ASCII names) goes to encoding/xml.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// plainText reports whether s reads the same to encoding/xml as its bytes:
// valid UTF-8 of XML characters, no carriage returns (normalised to \n),
// and outside CDATA no markup or entities.
func plainText(s []byte, cdata bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\r':
				return false
			case c < 0x20 && c != '\t' && c != '\n':
				return false
			case !cdata && (c == '&' || c == '>' || c == ']'):
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF || r >= 0xD800 && r <= 0xDFFF {
			return false
		}
		i += n
	}
	return true
}

// trimSpace trims XML white space (the characters encoding/xml skips).
func trimSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// xmlWriter writes XML as encoding/xml's Marshal does for the same
// elements: text escaped with xml.EscapeText, CDATA split around "]]>".
type xmlWriter struct{ b []byte }

func (w *xmlWriter) open(name string)  { w.b = append(append(append(w.b, '<'), name...), '>') }
func (w *xmlWriter) close(name string) { w.b = append(append(append(w.b, "</"...), name...), '>') }

func (w *xmlWriter) num(name string, n int64) {
	w.open(name)
	w.b = strconv.AppendInt(w.b, n, 10)
	w.close(name)
}

func (w *xmlWriter) text(name, s string) {
	w.open(name)
	var buf bytes.Buffer
	_ = xml.EscapeText(&buf, []byte(s)) // a bytes.Buffer does not fail
	w.b = append(w.b, buf.Bytes()...)
	w.close(name)
}

// textOmitEmpty is an ",omitempty" field.
func (w *xmlWriter) textOmitEmpty(name, s string) {
	if s != "" {
		w.text(name, s)
	}
}

// cdata is silenceper's CDATA type: nothing between the tags when empty.
func (w *xmlWriter) cdata(name, s string) {
	w.open(name)
	if s != "" {
		w.b = append(w.b, "<![CDATA["...)
		for {
			before, after, ok := strings.Cut(s, "]]>")
			if !ok {
				break
			}
			w.b = append(append(w.b, before...), "]]]]><![CDATA[>"...)
			s = after
		}
		w.b = append(append(w.b, s...), "]]>"...)
	}
	w.close(name)
}
