package wechat

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Mode is how the WeChat server sends messages.
type Mode int

// Modes of the Official Account's server configuration.
const (
	ModeSafe       Mode = iota // 安全模式: only the ciphertext
	ModeCompatible             // 兼容模式: plain fields and the ciphertext
	ModePlain                  // 明文模式
)

func (m Mode) String() string {
	switch m {
	case ModeSafe:
		return "safe"
	case ModeCompatible:
		return "compatible"
	case ModePlain:
		return "plain"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Peer plays the WeChat server: it signs (and encrypts) messages for a
// webhook and checks (and decrypts) what comes back. `edubot chat` and the
// webhook tests use it.
type Peer struct {
	Token  string
	AESKey string
	AppID  string
	Mode   Mode
	Now    func() time.Time // nil = time.Now
	Client *http.Client     // nil = a client with a 10 s timeout
}

// Outgoing is one message as WeChat sends it to the webhook. Zero fields
// are left out of the XML.
type Outgoing struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata    `xml:"ToUserName"`
	FromUserName cdata    `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      cdata    `xml:"MsgType"`
	Content      cdata    `xml:"Content,omitempty"`
	PicURL       cdata    `xml:"PicUrl,omitempty"`
	MediaID      cdata    `xml:"MediaId,omitempty"`
	Format       cdata    `xml:"Format,omitempty"`
	Recognition  cdata    `xml:"Recognition,omitempty"`
	LocationX    float64  `xml:"Location_X,omitempty"`
	LocationY    float64  `xml:"Location_Y,omitempty"`
	Scale        int      `xml:"Scale,omitempty"`
	Label        cdata    `xml:"Label,omitempty"`
	Event        cdata    `xml:"Event,omitempty"`
	EventKey     cdata    `xml:"EventKey,omitempty"`
	MsgID        int64    `xml:"MsgId,omitempty"`
}

// cdata marshals as <![CDATA[…]]> like WeChat's own XML.
type cdata string

func (c cdata) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(struct {
		S string `xml:",cdata"`
	}{string(c)}, start)
}

// TextMessage is a user's text message.
func TextMessage(account, user, text string, msgID int64, at time.Time) Outgoing {
	return Outgoing{ToUserName: cdata(account), FromUserName: cdata(user), CreateTime: at.Unix(), MsgType: "text", Content: cdata(text), MsgID: msgID}
}

// EventMessage is an event (subscribe, unsubscribe, CLICK, VIEW, …).
func EventMessage(account, user, event, key string, at time.Time) Outgoing {
	return Outgoing{ToUserName: cdata(account), FromUserName: cdata(user), CreateTime: at.Unix(), MsgType: "event", Event: cdata(event), EventKey: cdata(key)}
}

// VoiceMessage is a voice message with WeChat's speech recognition.
func VoiceMessage(account, user, recognition string, msgID int64, at time.Time) Outgoing {
	return Outgoing{ToUserName: cdata(account), FromUserName: cdata(user), CreateTime: at.Unix(), MsgType: "voice",
		MediaID: "media-voice", Format: "amr", Recognition: cdata(recognition), MsgID: msgID}
}

// MediaMessage is an image, video, shortvideo, location or link message
// with plausible fields.
func MediaMessage(account, user, typ string, msgID int64, at time.Time) Outgoing {
	o := Outgoing{ToUserName: cdata(account), FromUserName: cdata(user), CreateTime: at.Unix(), MsgType: cdata(typ), MsgID: msgID}
	switch typ {
	case "image":
		o.PicURL, o.MediaID = "http://mmbiz.qpic.cn/example.jpg", "media-image"
	case "video", "shortvideo":
		o.MediaID = "media-video"
	case "location":
		o.LocationX, o.LocationY, o.Scale, o.Label = 23.55, 116.37, 15, "广东省揭阳市榕城区"
	}
	return o
}

// aesKey decodes the key per call (it is cheap) so a Peer needs no lock.
func (p *Peer) aesKey() (aesKey, error) {
	if p.Mode == ModePlain {
		return nil, nil
	}
	k, err := decodeAESKey(p.AESKey)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	return k, nil
}

func (p *Peer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Seal returns the query and body WeChat would send for msg.
func (p *Peer) Seal(msg Outgoing) (url.Values, []byte, error) {
	key, err := p.aesKey()
	if err != nil {
		return nil, nil, err
	}
	plain, err := xml.Marshal(msg)
	if err != nil {
		return nil, nil, fmt.Errorf("peer: %w", err)
	}
	ts, nc := strconv.FormatInt(p.now().Unix(), 10), nonce()
	q := url.Values{"timestamp": {ts}, "nonce": {nc}, "signature": {sign(p.Token, ts, nc)}, "openid": {string(msg.FromUserName)}}
	if p.Mode == ModePlain {
		return q, plain, nil
	}
	enc, err := encrypt(key, randomBytes(16), plain, p.AppID)
	if err != nil {
		return nil, nil, fmt.Errorf("peer: %w", err)
	}
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", sign(p.Token, ts, nc, enc))
	var body []byte
	if p.Mode == ModeCompatible {
		// The plain message with the ciphertext added, as compatible mode sends it.
		body = bytes.Replace(plain, []byte("</xml>"), []byte("<Encrypt><![CDATA["+enc+"]]></Encrypt></xml>"), 1)
	} else {
		body, err = xml.Marshal(struct {
			XMLName    xml.Name `xml:"xml"`
			ToUserName cdata    `xml:"ToUserName"`
			Encrypt    cdata    `xml:"Encrypt"`
		}{ToUserName: msg.ToUserName, Encrypt: cdata(enc)})
		if err != nil {
			return nil, nil, fmt.Errorf("peer: %w", err)
		}
	}
	return q, body, nil
}

// Received is a webhook's reply as the phone would show it.
type Received struct {
	Success      bool // "success" or an empty body: nothing shown
	MsgType      string
	ToUserName   string
	FromUserName string
	CreateTime   int64
	Content      string
	Articles     []ReceivedArticle
	XML          []byte // the reply XML, decrypted
}

// ReceivedArticle is one news card.
type ReceivedArticle struct {
	Title       string `xml:"Title"`
	Description string `xml:"Description"`
	PicURL      string `xml:"PicUrl"`
	URL         string `xml:"Url"`
}

type replyXML struct {
	XMLName      xml.Name          `xml:"xml"`
	ToUserName   string            `xml:"ToUserName"`
	FromUserName string            `xml:"FromUserName"`
	CreateTime   int64             `xml:"CreateTime"`
	MsgType      string            `xml:"MsgType"`
	Content      string            `xml:"Content"`
	ArticleCount int               `xml:"ArticleCount"`
	Articles     []ReceivedArticle `xml:"Articles>item"`
	Encrypt      string            `xml:"Encrypt"`
	MsgSignature string            `xml:"MsgSignature"`
	TimeStamp    string            `xml:"TimeStamp"`
	Nonce        string            `xml:"Nonce"`
}

// ErrReplySignature means an encrypted reply's MsgSignature is wrong.
var ErrReplySignature = errors.New("reply MsgSignature does not match")

// Open checks and decodes a webhook's 200 reply body the way WeChat does:
// in safe and compatible mode an encrypted reply must carry a valid
// MsgSignature and decrypt with our key and app id.
func (p *Peer) Open(body []byte) (Received, error) {
	key, err := p.aesKey()
	if err != nil {
		return Received{}, err
	}
	if s := strings.TrimSpace(string(body)); s == "" || s == Success {
		return Received{Success: true}, nil
	}
	var r replyXML
	if err := xml.Unmarshal(body, &r); err != nil {
		return Received{}, fmt.Errorf("reply is neither success nor XML: %w", err)
	}
	raw := body
	if r.Encrypt != "" {
		if p.Mode == ModePlain {
			return Received{}, errors.New("encrypted reply in plain mode")
		}
		if !sameSignature(r.MsgSignature, sign(p.Token, r.TimeStamp, r.Nonce, r.Encrypt)) {
			return Received{}, ErrReplySignature
		}
		plain, err := decrypt(key, r.Encrypt, p.AppID)
		if err != nil {
			return Received{}, fmt.Errorf("reply: %w", err)
		}
		raw = plain
		r = replyXML{}
		if err := xml.Unmarshal(plain, &r); err != nil {
			return Received{}, fmt.Errorf("decrypted reply is not XML: %w", err)
		}
	} else if p.Mode == ModeSafe {
		// WeChat would show "该公众号暂时无法提供服务" for this.
		return Received{}, errors.New("plain reply in safe mode")
	}
	if r.MsgType == "news" && r.ArticleCount != len(r.Articles) {
		return Received{}, fmt.Errorf("news reply says %d articles, has %d", r.ArticleCount, len(r.Articles))
	}
	return Received{MsgType: r.MsgType, ToUserName: r.ToUserName, FromUserName: r.FromUserName,
		CreateTime: r.CreateTime, Content: r.Content, Articles: r.Articles, XML: raw}, nil
}

// Send posts msg to the webhook at endpoint and opens the reply. A status
// other than 200 is an error that includes it.
func (p *Peer) Send(ctx context.Context, endpoint string, msg Outgoing) (Received, error) {
	q, body, err := p.Seal(msg)
	if err != nil {
		return Received{}, err
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return Received{}, fmt.Errorf("peer: url: %w", err)
	}
	uq := u.Query()
	for k, v := range q {
		uq[k] = v
	}
	u.RawQuery = uq.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Received{}, fmt.Errorf("peer: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		// Drop url.Error's copy of the query: signatures are noise here.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Received{}, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Received{}, fmt.Errorf("peer: reading reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Received{}, fmt.Errorf("POST %s: webhook answered %s", endpoint, resp.Status)
	}
	return p.Open(reply)
}
