package wxapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
)

// Mass send as 图文 (mpnews): the article goes to the account's drafts
// (草稿箱, draft/add) with a cover uploaded as thumb material, and the
// draft's media_id is what sendall and preview take.

// DraftArticle is one article of a draft, as draft/add takes it.
type DraftArticle struct {
	Title              string `json:"title"`
	Author             string `json:"author,omitempty"`
	Digest             string `json:"digest,omitempty"`   // summary under the title; at most 120 characters
	Content            string `json:"content"`            // HTML; images only from media/uploadimg
	ContentSourceURL   string `json:"content_source_url"` // 阅读原文
	ThumbMediaID       string `json:"thumb_media_id"`     // permanent thumb material
	NeedOpenComment    int    `json:"need_open_comment"`
	OnlyFansCanComment int    `json:"only_fans_can_comment"`
}

// UploadImage uploads an image for use inside an article's content
// (media/uploadimg: jpg or png, at most 1 MB) and returns its URL.
func (c *Client) UploadImage(ctx context.Context, filename string, data []byte) (string, error) {
	var out struct {
		URL string `json:"url"`
	}
	if err := c.upload(ctx, "media/uploadimg", nil, filename, data, &out); err != nil {
		return "", err
	}
	return out.URL, nil
}

// UploadThumb adds a permanent thumb material (material/add_material,
// type thumb: jpg, at most 64 KB) and returns its media_id.
func (c *Client) UploadThumb(ctx context.Context, filename string, data []byte) (string, error) {
	var out struct {
		MediaID string `json:"media_id"`
	}
	if err := c.upload(ctx, "material/add_material", url.Values{"type": {"thumb"}}, filename, data, &out); err != nil {
		return "", err
	}
	return out.MediaID, nil
}

// AddDraft saves articles as a draft (draft/add) and returns its media_id.
func (c *Client) AddDraft(ctx context.Context, articles []DraftArticle) (string, error) {
	var out struct {
		MediaID string `json:"media_id"`
	}
	if err := c.call(ctx, "draft/add", map[string]any{"articles": articles}, &out); err != nil {
		return "", err
	}
	return out.MediaID, nil
}

// MassSendNews mass-sends a draft as 图文 (mpnews). ignoreReprint is
// send_ignore_reprint: when WeChat judges the article a reprint of
// another account's original, 1 sends it anyway (as a reprint), 0 stops
// the send (MASSSENDJOBFINISH then reports err(30003)). clientMsgID works
// as in MassSendText.
func (c *Client) MassSendNews(ctx context.Context, to MassTarget, mediaID string, ignoreReprint bool, clientMsgID string) (int64, error) {
	filter := map[string]any{"is_to_all": to.ToAll}
	if !to.ToAll {
		filter["tag_id"] = to.TagID
	}
	ignore := 0
	if ignoreReprint {
		ignore = 1
	}
	req := map[string]any{
		"filter":              filter,
		"msgtype":             "mpnews",
		"mpnews":              map[string]string{"media_id": mediaID},
		"send_ignore_reprint": ignore,
		"clientmsgid":         clientMsgID,
	}
	var out struct {
		MsgID int64 `json:"msg_id"`
	}
	err := c.call(ctx, "message/mass/sendall", req, &out)
	if errors.Is(err, ErrClientMsgIDUsed) && out.MsgID != 0 {
		return out.MsgID, nil
	}
	if err != nil {
		return 0, err
	}
	return out.MsgID, nil
}

// MassPreviewNews sends a draft as 图文 to one follower only (100 a day).
func (c *Client) MassPreviewNews(ctx context.Context, openid, mediaID string) error {
	req := map[string]any{"touser": openid, "msgtype": "mpnews", "mpnews": map[string]string{"media_id": mediaID}}
	return c.call(ctx, "message/mass/preview", req, nil)
}

// upload POSTs one file in the multipart field "media", with the token
// refreshed once on 40001/42001 like call.
func (c *Client) upload(ctx context.Context, api string, query url.Values, filename string, data []byte, out any) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("media", filename)
	if err != nil {
		return fmt.Errorf("wechat %s: %w", api, err)
	}
	if _, err := fw.Write(data); err != nil {
		return fmt.Errorf("wechat %s: %w", api, err)
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("wechat %s: %w", api, err)
	}
	tok, err := c.Token(ctx)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("access_token", tok)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/cgi-bin/"+api+"?"+q.Encode(), bytes.NewReader(buf.Bytes()))
		if err != nil {
			return fmt.Errorf("wechat %s: %w", api, err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.http.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) { // the URL holds the token
				err = ue.Err
			}
			return fmt.Errorf("wechat %s: %w", api, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("wechat %s: read reply: %w", api, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("wechat %s: HTTP %d", api, resp.StatusCode)
		}
		var cr commonReply
		if err := json.Unmarshal(raw, &cr); err != nil {
			return fmt.Errorf("wechat %s: decode reply: %w", api, err)
		}
		if (cr.ErrCode == 40001 || cr.ErrCode == 42001) && attempt == 0 {
			if tok, err = c.refresh(ctx, tok); err != nil {
				return err
			}
			continue
		}
		if cr.ErrCode != 0 {
			return &APIError{API: api, Code: cr.ErrCode, Msg: cr.ErrMsg}
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("wechat %s: decode reply: %w", api, err)
		}
		return nil
	}
}
