package admin

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/importer"
	"github.com/gdjysjyj/edubot/internal/limits"
)

// importRequest is the JSON form of POST /import.
type importRequest struct {
	Page   string `json:"page"`   // the scraped page: plain text or HTML
	URL    string `json:"url"`    // the article's address, when the page lacks it
	Source string `json:"source"` // the publisher, when the page names none
	Date   string `json:"date"`   // YYYY-MM-DD, overrides the page's date
}

// importDraft turns a scraped page into a draft notice. Nothing is saved:
// staff review the draft and POST it to /notices.
func (a *api) importDraft(c *gin.Context) {
	var req importRequest
	body, err := limits.ReadAll(c.Request.Body, limits.PageBody)
	if err != nil {
		a.fail(c, err)
		return
	}
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt == "application/json" {
		if err := strictJSON(body, &req); err != nil {
			a.fail(c, err)
			return
		}
	} else {
		// text/html, text/plain or anything else: the body is the page.
		req = importRequest{Page: string(body), URL: c.Query("url"), Source: c.Query("source"), Date: c.Query("date")}
	}
	if strings.TrimSpace(req.Page) == "" {
		a.fail(c, bad("page", "page: empty; send the page as the body (text/html or text/plain) or as JSON {\"page\": …}"))
		return
	}
	opts := a.Import
	opts.Now = a.Now()
	if req.URL != "" {
		opts.URL = req.URL
	}
	if req.Source != "" {
		opts.Source = req.Source
	}
	if req.Date != "" {
		d, err := content.ParseDate(req.Date)
		if err != nil {
			a.fail(c, bad("date", "date: %v", err))
			return
		}
		opts.Date = d
	}
	if opts.DocFreq == nil {
		opts.DocFreq = a.noticeDocFreq()
	}
	d, err := importer.Import([]byte(req.Page), opts)
	if err != nil {
		a.fail(c, bad("page", "page: %v", err))
		return
	}
	md, err := d.Markdown()
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"draft":    d.Notice,
		"warnings": nonNil(d.Warnings),
		"valid":    errString(d.Notice.Validate()),
		"markdown": string(md),
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// noticeDocFreq gives the importer's keywords an IDF over the runtime
// notices (titles, summaries, keywords), rebuilt when the content changes.
func (a *api) noticeDocFreq() func(string) (int, int) {
	cur, v := a.Store.Current()
	if cur == nil {
		return nil
	}
	a.dfMu.Lock()
	defer a.dfMu.Unlock()
	if a.docFreq == nil || a.dfVersion != v {
		texts := make([]string, 0, len(cur.Notices))
		for _, n := range cur.Notices {
			texts = append(texts, n.Title+"\n"+n.Summary+"\n"+strings.Join(n.Keywords, " "))
		}
		a.docFreq, a.dfVersion = importer.NewDocFreq(texts, a.Import.Segment), v
	}
	return a.docFreq
}

// export sends the whole runtime content as a zip in the interchange
// format (or as JSON with ?format=json).
func (a *api) export(c *gin.Context) {
	set, err := a.Store.Export(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	switch c.DefaultQuery("format", "zip") {
	case "json":
		c.JSON(http.StatusOK, set)
		return
	case "zip":
	default:
		a.fail(c, bad("format", "format: zip or json, got %q", c.Query("format")))
		return
	}
	files, err := set.Files()
	if err != nil {
		a.fail(c, err)
		return
	}
	data, err := zipFiles(files, a.Now())
	if err != nil {
		a.fail(c, err)
		return
	}
	name := "edubot-content-" + time.Now().In(a.Location).Format("20060102-1504") + ".zip"
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "application/zip", data)
}

func zipFiles(files map[string][]byte, at time.Time) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: at})
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		if _, err := w.Write(files[n]); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return buf.Bytes(), nil
}

// importSet replaces the whole runtime content with a set: a zip in the
// interchange format (application/zip) or a JSON set (as export
// ?format=json gives). Everything is validated first; a bad set changes
// nothing and the answer names the file, line and field.
func (a *api) importSet(c *gin.Context) {
	body, err := limits.ReadAll(c.Request.Body, a.MaxBody)
	if err != nil {
		a.fail(c, err)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		a.fail(c, bad("body", "empty body: send a zip of the content folder (application/zip) or a JSON set"))
		return
	}
	var set *content.Set
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt == "application/json" || (mt == "" && body[0] == '{') {
		var s content.Set
		if err := strictJSON(body, &s); err != nil {
			a.fail(c, err)
			return
		}
		set = &s
	} else {
		fsys, err := zipFS(body)
		if err != nil {
			a.fail(c, err)
			return
		}
		if set, err = content.Load(fsys); err != nil {
			a.fail(c, err)
			return
		}
	}
	if err := a.Store.ImportSet(c.Request.Context(), Actor(c), set); err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"imported": gin.H{"notices": len(set.Notices), "faqs": len(set.FAQs), "rules": len(set.Rules), "synonyms": len(set.Synonyms)},
	})
}

// zipFS opens a zip as a content folder within the archive limits
// (entries, sizes, ratio); a zip holding one top folder is entered.
func zipFS(body []byte) (fs.FS, error) {
	fsys, err := limits.OpenZip(body, limits.Zip{})
	if errors.Is(err, limits.ErrNotZip) {
		return nil, bad("body", "body: %v; send application/zip or a JSON set", err)
	}
	return fsys, err
}
