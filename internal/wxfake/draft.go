package wxfake

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Draft is one draft (草稿) the account holds: what draft/add received.
type Draft struct {
	MediaID  string         `json:"media_id"`
	Articles []DraftArticle `json:"articles"`
}

// DraftArticle is one article of a draft.
type DraftArticle struct {
	Title              string `json:"title"`
	Author             string `json:"author"`
	Digest             string `json:"digest"`
	Content            string `json:"content"`
	ContentSourceURL   string `json:"content_source_url"`
	ThumbMediaID       string `json:"thumb_media_id"`
	NeedOpenComment    int    `json:"need_open_comment"`
	OnlyFansCanComment int    `json:"only_fans_can_comment"`
}

// Drafts returns the drafts added, by media_id.
func (s *Server) Drafts() map[string]Draft {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Draft, len(s.drafts))
	for id, d := range s.drafts {
		out[id] = *d
	}
	return out
}

// MarkReprint makes WeChat's originality check (原创校验) judge the draft
// a reprint of another account's original: a mass send of it with
// send_ignore_reprint 0 is accepted but stopped, and MASSSENDJOBFINISH
// reports err(30003); with 1 it goes out as a reprint.
func (s *Server) MarkReprint(mediaID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reprints[mediaID] = true
}

// draftAdd validates like WeChat: 1–8 articles, each with a title (at
// most 64 characters), content (at most 20,000 characters), a digest of at
// most 120 characters and a thumb_media_id of a thumb material the
// account holds (40007 otherwise).
func (s *Server) draftAdd(body []byte) reply {
	var req struct {
		Articles []DraftArticle `json:"articles"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errReply(CodeDataFormat, "data format error")
	}
	if len(req.Articles) == 0 {
		return errReply(CodeEmptyNews, "empty news data")
	}
	if len(req.Articles) > 8 {
		return errReply(CodeArticleCount, "article size out of limit")
	}
	for _, a := range req.Articles {
		switch {
		case strings.TrimSpace(a.Title) == "":
			return errReply(CodeEmptyNews, "empty news data: title required")
		case utf8.RuneCountInString(a.Title) > 64:
			return errReply(CodeTitleSize, "title size out of limit")
		case strings.TrimSpace(a.Content) == "":
			return errReply(CodeEmptyNews, "empty news data: content required")
		case utf8.RuneCountInString(a.Content) > 20000:
			return errReply(CodeContentSize, "content size out of limit")
		case utf8.RuneCountInString(a.Digest) > 120:
			return errReply(CodeDigestSize, "description size out of limit")
		case !s.thumbs[a.ThumbMediaID]:
			return errReply(CodeInvalidMedia, "invalid media_id (thumb_media_id)")
		}
	}
	d := &Draft{MediaID: "FAKE_DRAFT_" + randHex(12), Articles: req.Articles}
	s.drafts[d.MediaID] = d
	return reply{"media_id": d.MediaID}
}

// checkDraft refuses an mpnews mass send or preview of a draft the account
// does not hold (40007).
func (s *Server) checkDraft(m massRequest) reply {
	if m.MsgType == "mpnews" && s.drafts[m.MpNews.MediaID] == nil {
		return errReply(CodeInvalidMedia, "invalid media_id")
	}
	return nil
}
