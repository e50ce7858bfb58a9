package broadcast

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"image"
	"image/jpeg"
	_ "image/png" // covers may be PNG
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

// Formats of a mass send.
const (
	FormatNews = "mpnews" // 图文: the notice as an article from the account's drafts
	FormatText = "text"   // title, summary and link: for a notice without a cover
)

// Images fetches a notice's cover image.
type Images interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// HTTPImages fetches images over HTTP(S), at most 5 MB, within Timeout.
type HTTPImages struct{ Timeout time.Duration }

// Fetch implements Images.
func (h HTTPImages) Fetch(ctx context.Context, url string) ([]byte, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("cover %q is not an http(s) URL", url)
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("cover: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cover: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cover %s: HTTP %d", url, resp.StatusCode)
	}
	const max = 5 << 20
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("cover: %w", err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("cover %s: larger than 5 MB", url)
	}
	return b, nil
}

// WeChat's limits on the pictures of an article.
const (
	thumbMax  = 64 << 10 // thumb material: jpg, 64 KB
	inlineMax = 1 << 20  // media/uploadimg: jpg or png, 1 MB
)

// draftFor uploads the notice as a draft — the cover as thumb material
// and, inside the content, as an uploaded image — and returns the draft's
// media_id. It is made once per job (kept in the job's "media_id").
func (s *Service) draftFor(ctx context.Context, j *Job) (string, error) {
	if id, err := s.rdb.HGet(ctx, s.jobKey(j.ID), "media_id").Result(); err == nil && id != "" {
		return id, nil
	}
	n := s.o.Notices.Notice(j.Notice)
	if n == nil {
		return "", fieldErr("notice", "notice %s no longer exists", j.Notice)
	}
	raw, err := s.o.Images.Fetch(ctx, n.Cover)
	if err != nil {
		return "", fieldErr("notice", "the cover of notice %s cannot be used: %v", n.ID, err)
	}
	thumb, err := fitJPEG(raw, thumbMax)
	if err != nil {
		return "", fieldErr("notice", "the cover of notice %s cannot be used: %v", n.ID, err)
	}
	inline := raw
	if len(inline) > inlineMax {
		if inline, err = fitJPEG(raw, inlineMax); err != nil {
			return "", fieldErr("notice", "the cover of notice %s cannot be used: %v", n.ID, err)
		}
	}
	thumbID, err := s.o.API.UploadThumb(ctx, "cover.jpg", thumb)
	if err != nil {
		return "", fmt.Errorf("%w: cover as thumb material: %w", ErrWeChat, err)
	}
	picURL, err := s.o.API.UploadImage(ctx, "cover"+imageExt(inline), inline)
	if err != nil {
		return "", fmt.Errorf("%w: cover image: %w", ErrWeChat, err)
	}
	mediaID, err := s.o.API.AddDraft(ctx, []wxapi.DraftArticle{draftArticle(n, thumbID, picURL)})
	if err != nil {
		return "", fmt.Errorf("%w: draft: %w", ErrWeChat, err)
	}
	if err := s.rdb.HSet(ctx, s.jobKey(j.ID), "media_id", mediaID).Err(); err != nil {
		return "", fmt.Errorf("broadcast: draft: %w", err)
	}
	s.log.Info("broadcast draft uploaded", "job", j.ID, "notice", n.ID)
	return mediaID, nil
}

// draftArticle is the notice as a 图文 article: the cover, the body as
// paragraphs, and 阅读原文 to the notice's page.
func draftArticle(n *content.Notice, thumbID, picURL string) wxapi.DraftArticle {
	var b strings.Builder
	fmt.Fprintf(&b, `<p><img src="%s"/></p>`, html.EscapeString(picURL))
	for _, para := range strings.Split(strings.ReplaceAll(n.Body, "\r\n", "\n"), "\n") {
		if para = strings.TrimSpace(para); para != "" {
			fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(para))
		}
	}
	meta := n.Source
	if !n.Date.IsZero() {
		meta = strings.TrimSpace(meta + " " + n.Date.Format("2006-01-02"))
	}
	if meta != "" {
		fmt.Fprintf(&b, `<p style="color:#888">%s</p>`, html.EscapeString(meta))
	}
	return wxapi.DraftArticle{
		Title:            truncRunes(n.Title, 64),
		Author:           truncRunes(n.Source, 16),
		Digest:           truncRunes(n.Summary, 120),
		Content:          b.String(),
		ContentSourceURL: n.URL,
		ThumbMediaID:     thumbID,
	}
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func imageExt(b []byte) string {
	if http.DetectContentType(b) == "image/png" {
		return ".png"
	}
	return ".jpg"
}

// fitJPEG returns the image as a JPEG of at most max bytes: as it is when
// it already is one that small, otherwise scaled down and re-encoded.
func fitJPEG(raw []byte, max int) ([]byte, error) {
	if len(raw) <= max && http.DetectContentType(raw) == "image/jpeg" {
		return raw, nil
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not a JPEG or PNG image: %w", err)
	}
	for _, width := range []int{900, 640, 480, 360, 240} {
		small := scaleTo(img, width)
		for _, q := range []int{85, 70, 55, 40} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: q}); err != nil {
				return nil, err
			}
			if buf.Len() <= max {
				return buf.Bytes(), nil
			}
		}
	}
	return nil, errors.New("cannot make it small enough")
}

// scaleTo shrinks img to the given width (never enlarges), nearest
// neighbour: enough for a cover thumbnail.
func scaleTo(img image.Image, width int) image.Image {
	b := img.Bounds()
	if b.Dx() <= width {
		return img
	}
	height := max(1, b.Dy()*width/b.Dx())
	out := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		sy := b.Min.Y + y*b.Dy()/height
		for x := 0; x < width; x++ {
			out.Set(x, y, img.At(b.Min.X+x*b.Dx()/width, sy))
		}
	}
	return out
}

// massStatusError explains a MASSSENDJOBFINISH status that is not a
// success ("" for one that is).
func massStatusError(status string) string {
	switch {
	case status == "" || status == "send success":
		return ""
	case status == "err(30001)", status == "err(30002)", status == "err(30003)":
		return "WeChat's originality check (原创校验) stopped the mass send (" + status +
			"): the article was judged a reprint and send_ignore_reprint is off (broadcast.send_ignore_reprint)"
	case strings.HasPrefix(status, "err("):
		return "WeChat stopped the mass send: " + status
	case status == "send fail":
		return "WeChat reports the mass send failed"
	}
	return ""
}
