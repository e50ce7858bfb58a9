package broadcast

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/internal/wxapi"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

// images serves covers from memory.
type images map[string][]byte

func (m images) Fetch(_ context.Context, url string) ([]byte, error) {
	if b, ok := m[url]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("cover %s: HTTP 404", url)
}

// picture makes a noisy w×h image (noise does not compress, so the
// encoded size is realistic).
func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewSource(1))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(r.Intn(256)), uint8(x), uint8(y), 255})
		}
	}
	return img
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const coverURL = "https://edu.example.org/img/typhoon.jpg"

// newsEnv is an env whose typhoon notice has a cover and a body.
func newsEnv(t *testing.T, cover []byte) (*env, images) {
	e := newEnv(t, wxfake.Config{})
	n := *e.notes["n-typhoon"]
	n.Cover, n.Source, n.Body = coverURL, "揭阳市教育局", "各校周三恢复上课。\n\n请家长注意<孩子>上学路上的安全。"
	e.notes["n-typhoon"] = &n
	for _, o := range []string{"o1", "o2", "tester"} {
		e.fake.AddFollower(o)
	}
	return e, images{coverURL: cover}
}

func finish(t *testing.T, e *env, s *Service, j *Job) *Job {
	t.Helper()
	r, _ := e.fake.FinishMass(j.MsgID)
	if err := s.MassFinished(context.Background(), bot.MassResult{MsgID: r.MsgID, Status: r.Status, TotalCount: r.TotalCount,
		FilterCount: r.FilterCount, SentCount: r.SentCount, ErrorCount: r.ErrorCount}); err != nil {
		t.Fatal(err)
	}
	j, err := s.Get(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestMassSendAsNewsFromADraft(t *testing.T) {
	e, imgs := newsEnv(t, encodeJPEG(t, picture(1200, 500))) // over 64 KB: the thumb must be made smaller
	s := e.service(Options{Images: imgs, SendIgnoreReprint: true})
	ctx := context.Background()
	j, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "all", Actor: "li"})
	if err != nil {
		t.Fatal(err)
	}
	if j.Format != FormatNews {
		t.Fatalf("a notice with a cover: format %q, want %q", j.Format, FormatNews)
	}
	if _, err := s.Preview(ctx, j.ID, []string{"tester"}, "li"); err != nil {
		t.Fatal(err)
	}
	// The cover went up twice (thumb material, image in the content), then the draft.
	if n := len(e.fake.Calls(wxfake.PathAddMaterial)); n != 1 {
		t.Fatalf("thumb uploads = %d", n)
	}
	if n := len(e.fake.Calls(wxfake.PathUploadImg)); n != 1 {
		t.Fatalf("image uploads = %d", n)
	}
	drafts := e.fake.Drafts()
	if len(drafts) != 1 {
		t.Fatalf("drafts = %+v", drafts)
	}
	var d wxfake.Draft
	for _, d = range drafts {
	}
	a := d.Articles[0]
	if a.Title != "台风过后复课安排" || a.Digest != "各校周三恢复上课。" || a.ContentSourceURL != "https://edu.example.org/n/1" || a.Author != "揭阳市教育局" {
		t.Errorf("article = %+v", a)
	}
	if !strings.Contains(a.Content, `<img src="http://mmbiz.qpic.cn/fake/`) || !strings.Contains(a.Content, "<p>请家长注意&lt;孩子&gt;上学路上的安全。</p>") {
		t.Errorf("content = %s", a.Content)
	}
	pv := e.fake.Calls(wxfake.PathMassPreview)
	if len(pv) != 1 || !strings.Contains(string(pv[0].Body), `"msgtype":"mpnews"`) || !strings.Contains(string(pv[0].Body), d.MediaID) {
		t.Fatalf("preview = %+v", pv)
	}
	// A second preview reuses the draft.
	if _, err := s.Preview(ctx, j.ID, []string{"o1"}, "li"); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.Drafts()) != 1 {
		t.Error("a second preview uploaded the draft again")
	}
	if _, err := s.Confirm(ctx, j.ID, "wang"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateSubmitted)
	masses := e.fake.Masses()
	if len(masses) != 1 || masses[0].MsgType != "mpnews" || masses[0].MediaID != d.MediaID || !masses[0].IgnoreReprint || !masses[0].ToAll {
		t.Fatalf("masses = %+v", masses)
	}
	if j.MediaID != d.MediaID {
		t.Errorf("job media_id %q, draft %q", j.MediaID, d.MediaID)
	}
	if j = finish(t, e, s, j); j.State != StateDone || j.Sent != 3 {
		t.Errorf("after MASSSENDJOBFINISH: %+v", j)
	}
}

// 图文 to one WeChat user tag: the draft is made as for "all", and the
// sendall request WeChat receives names the tag (not is_to_all), the
// draft and send_ignore_reprint; only the tag's followers get it.
func TestMassSendAsNewsToATag(t *testing.T) {
	e, imgs := newsEnv(t, encodeJPEG(t, picture(200, 100)))
	e.fake.AddFollower("p1", "家长")
	e.fake.AddFollower("p2", "家长")
	e.fake.AddFollower("t1", "教师")
	s := e.service(Options{Images: imgs, SendIgnoreReprint: true})
	ctx := context.Background()
	j, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "tag:家长", Actor: "li"})
	if err != nil {
		t.Fatal(err)
	}
	if j.Format != FormatNews || j.Channel != ChannelTag || j.TagID != e.fake.TagID("家长") {
		t.Fatalf("job = %+v", j)
	}
	if _, err := s.Preview(ctx, j.ID, []string{"tester"}, "li"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, j.ID, "wang"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateSubmitted)
	for path, want := range map[string]int{wxfake.PathAddMaterial: 1, wxfake.PathUploadImg: 1, wxfake.PathDraftAdd: 1, wxfake.PathMassPreview: 1, wxfake.PathMassSendAll: 1} {
		if n := len(e.fake.Calls(path)); n != want {
			t.Errorf("%s called %d times, want %d", path, n, want)
		}
	}
	var d wxfake.Draft
	for _, d = range e.fake.Drafts() {
	}
	if d.MediaID == "" || d.MediaID != j.MediaID || len(d.Articles) != 1 || d.Articles[0].ThumbMediaID == "" {
		t.Fatalf("draft %+v, job media_id %q", d, j.MediaID)
	}
	// The request as WeChat received it.
	var req struct {
		Filter struct {
			IsToAll bool `json:"is_to_all"`
			TagID   *int `json:"tag_id"`
		} `json:"filter"`
		MsgType string `json:"msgtype"`
		MpNews  struct {
			MediaID string `json:"media_id"`
		} `json:"mpnews"`
		SendIgnoreReprint *int   `json:"send_ignore_reprint"`
		ClientMsgID       string `json:"clientmsgid"`
	}
	calls := e.fake.Calls(wxfake.PathMassSendAll)
	if len(calls) != 1 {
		t.Fatalf("sendall calls = %d", len(calls))
	}
	if err := json.Unmarshal(calls[0].Body, &req); err != nil {
		t.Fatalf("sendall body %s: %v", calls[0].Body, err)
	}
	if req.Filter.IsToAll || req.Filter.TagID == nil || *req.Filter.TagID != e.fake.TagID("家长") {
		t.Errorf("filter = %s, want tag_id %d and not is_to_all", calls[0].Body, e.fake.TagID("家长"))
	}
	if req.MsgType != "mpnews" || req.MpNews.MediaID != d.MediaID || req.SendIgnoreReprint == nil || *req.SendIgnoreReprint != 1 || req.ClientMsgID != j.ID {
		t.Errorf("sendall body = %s; want mpnews of draft %s, send_ignore_reprint 1, clientmsgid %s", calls[0].Body, d.MediaID, j.ID)
	}
	m := e.fake.Masses()
	if len(m) != 1 || m[0].ToAll || m[0].MsgType != "mpnews" || m[0].TagID != e.fake.TagID("家长") || fmt.Sprint(m[0].Recipients) != "[p1 p2]" {
		t.Fatalf("masses = %+v", m)
	}
	if j = finish(t, e, s, j); j.State != StateDone || j.Sent != 2 {
		t.Errorf("after MASSSENDJOBFINISH: %+v", j)
	}
}

func TestMassSendWithoutCoverIsTextAndLink(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	e.fake.AddFollower("tester")
	s := e.service(Options{Images: images{}})
	ctx := context.Background()
	j, err := s.Create(ctx, Request{Notice: "n-enrol", To: "all", Actor: "li"})
	if err != nil {
		t.Fatal(err)
	}
	if j.Format != FormatText || !strings.Contains(j.Text, "https://edu.example.org/n/2") {
		t.Fatalf("no cover: %+v", j)
	}
	if _, err := s.Preview(ctx, j.ID, []string{"tester"}, "li"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, j.ID, "wang"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	waitState(t, s, j.ID, StateSubmitted)
	if m := e.fake.Masses(); len(m) != 1 || m[0].MsgType != "text" {
		t.Fatalf("masses = %+v", m)
	}
	if len(e.fake.Drafts()) != 0 || len(e.fake.Calls(wxfake.PathAddMaterial)) != 0 {
		t.Error("a text mass send uploaded a draft")
	}
}

// WeChat's originality check: with send_ignore_reprint off, a notice
// judged a reprint is stopped and the job says why; with it on, it goes out.
func TestMassSendReprintCheck(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("send_ignore_reprint=%v", ignore), func(t *testing.T) {
			e, imgs := newsEnv(t, encodeJPEG(t, picture(200, 100)))
			s := e.service(Options{Images: imgs, SendIgnoreReprint: ignore})
			ctx := context.Background()
			j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "all", Actor: "li"})
			if _, err := s.Preview(ctx, j.ID, []string{"tester"}, "li"); err != nil {
				t.Fatal(err)
			}
			j, _ = s.Get(ctx, j.ID)
			e.fake.MarkReprint(j.MediaID)
			if _, err := s.Confirm(ctx, j.ID, "wang"); err != nil {
				t.Fatal(err)
			}
			run(t, s)
			j = finish(t, e, s, waitState(t, s, j.ID, StateSubmitted))
			if ignore {
				if j.State != StateDone || j.Sent != 3 || j.Error != "" {
					t.Errorf("ignoring the reprint check: %+v", j)
				}
				return
			}
			if j.State != StateFailed || j.Sent != 0 || !strings.Contains(j.Error, "30003") || !strings.Contains(j.Error, "send_ignore_reprint") {
				t.Errorf("stopped by the reprint check: %+v", j)
			}
		})
	}
}

// A draft WeChat no longer knows (40007) is uploaded again once; the send
// goes out with the new one.
func TestMassSendInvalidMediaUploadsTheDraftAgain(t *testing.T) {
	e, imgs := newsEnv(t, encodeJPEG(t, picture(200, 100)))
	s := e.service(Options{Images: imgs})
	ctx := context.Background()
	j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "all", Actor: "li"})
	if _, err := s.Preview(ctx, j.ID, []string{"tester"}, "li"); err != nil {
		t.Fatal(err)
	}
	e.fake.InjectError(wxfake.PathMassSendAll, wxfake.CodeInvalidMedia)
	if _, err := s.Confirm(ctx, j.ID, "wang"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateSubmitted)
	if len(e.fake.Drafts()) != 2 {
		t.Errorf("drafts = %d, want the first and its re-upload", len(e.fake.Drafts()))
	}
	if m := e.fake.Masses(); len(m) != 1 || m[0].MediaID != j.MediaID {
		t.Fatalf("masses = %+v, job media %s", m, j.MediaID)
	}
}

// Refusals while making the draft reach the publisher precisely; nothing
// is sent and no quota is taken.
func TestMassSendDraftRefusals(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(e *env, imgs images)
		status int // WeChat errcode, or 0 for a field error
	}{
		{"draft/add over its daily quota", func(e *env, _ images) { e.fake.SetAPIQuota(wxfake.PathDraftAdd, 0) }, wxfake.CodeAPIQuota},
		{"thumb refused", func(e *env, _ images) { e.fake.InjectError(wxfake.PathAddMaterial, wxfake.CodeInvalidFileType) }, wxfake.CodeInvalidFileType},
		{"cover missing", func(_ *env, imgs images) { delete(imgs, coverURL) }, 0},
		{"cover not an image", func(_ *env, imgs images) { imgs[coverURL] = []byte("<html>not found</html>") }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, imgs := newsEnv(t, encodeJPEG(t, picture(200, 100)))
			c.setup(e, imgs)
			s := e.service(Options{Images: imgs})
			ctx := context.Background()
			j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "all", Actor: "li"})
			_, err := s.Preview(ctx, j.ID, []string{"tester"}, "li")
			var fe *FieldError
			switch {
			case c.status == 0 && (!errors.As(err, &fe) || fe.Field != "notice" || !strings.Contains(fe.Msg, "cover")):
				t.Errorf("err = %v, want a field error about the cover", err)
			case c.status != 0 && (!errors.Is(err, ErrWeChat) || wxapi.Code(err) != c.status):
				t.Errorf("err = %v, want ErrWeChat with %d", err, c.status)
			}
			if len(e.fake.Calls(wxfake.PathMassPreview)) != 0 {
				t.Error("a preview went out without a draft")
			}
			if j, _ := s.Get(ctx, j.ID); j.State != StateDraft {
				t.Errorf("state %s after a failed preview", j.State)
			}
		})
	}
}

// The mass-send quota (45028) refused by WeChat for a 图文 send fails the
// job with WeChat's reason and keeps the quota taken (WeChat counted it).
func TestMassSendNewsQuotaRefused(t *testing.T) {
	e, imgs := newsEnv(t, encodeJPEG(t, picture(200, 100)))
	s := e.service(Options{Images: imgs})
	ctx := context.Background()
	j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "all", Actor: "li"})
	if _, err := s.Preview(ctx, j.ID, []string{"tester"}, "li"); err != nil {
		t.Fatal(err)
	}
	e.fake.InjectError(wxfake.PathMassSendAll, wxfake.CodeMassQuota)
	if _, err := s.Confirm(ctx, j.ID, "wang"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateFailed)
	if !strings.Contains(j.Error, "45028") {
		t.Errorf("job error = %q", j.Error)
	}
	if _, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "all", Actor: "li"}); !errors.Is(err, ErrQuota) {
		t.Errorf("next mass send the same day: %v, want ErrQuota", err)
	}
}

func TestFitJPEG(t *testing.T) {
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, picture(1600, 900)); err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string][]byte{"large png": pngBuf.Bytes(), "large jpeg": encodeJPEG(t, picture(1600, 900))} {
		out, err := fitJPEG(raw, thumbMax)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(out) > thumbMax || http.DetectContentType(out) != "image/jpeg" {
			t.Errorf("%s: %d bytes of %s", name, len(out), http.DetectContentType(out))
		}
		if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
			t.Errorf("%s: not a JPEG: %v", name, err)
		}
	}
	small := encodeJPEG(t, picture(40, 20))
	if out, _ := fitJPEG(small, thumbMax); !bytes.Equal(out, small) {
		t.Error("a small JPEG was re-encoded")
	}
	if _, err := fitJPEG([]byte("GIF89a…"), thumbMax); err == nil {
		t.Error("not an image: no error")
	}
}
