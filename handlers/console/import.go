package console

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/importer"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
)

func init() {
	addPage(Page{Nav: "导入文章", Path: "/import", Role: admin.RoleEditor, Order: 20, Mount: func(c *Console, r *Routes) {
		r.GET("/import", admin.RoleEditor, c.importPage)
		r.POST("/import", admin.RoleEditor, c.importDraft)
		r.POST("/import/publish", admin.RoleEditor, c.importPublish)
	}})
}

type importData struct {
	MaxUpload string
}

// reviewData is the draft beside its source.
type reviewData struct {
	editData
	Source   string
	Warnings []string
}

func (c *Console) importPage(g *gin.Context) {
	c.Render(g, http.StatusOK, "import", importData{MaxUpload: sizeLabel(c.MaxUpload)}, nil)
}

// importDraft reads a pasted or uploaded page and shows the cleaned draft
// beside it. Nothing is saved yet.
func (c *Console) importDraft(g *gin.Context) {
	f := NewForm(g)
	page := f.Get("page")
	if fh, err := g.FormFile("file"); err == nil && fh != nil && fh.Size > 0 {
		if fh.Size > c.MaxUpload {
			f.Fail("file", fmt.Sprintf("文件有 %s，超过了 %s 的上限。请只上传文章本身（网页另存为 .html 或 .txt）。", sizeLabel(fh.Size), sizeLabel(c.MaxUpload)))
		} else if file, err := fh.Open(); err != nil {
			f.Fail("file", "读不出这个文件，请重新选择")
		} else {
			b, err := io.ReadAll(io.LimitReader(file, c.MaxUpload+1))
			_ = file.Close()
			if err != nil {
				f.Fail("file", "读不出这个文件，请重新选择")
			}
			page = string(b)
		}
	} else if err != nil && !errors.Is(err, http.ErrMissingFile) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			f.Fail("file", fmt.Sprintf("内容超过了 %s 的上限。", sizeLabel(c.MaxUpload)))
		}
	}
	if int64(len(page)) > c.MaxUpload {
		f.Fail("page", fmt.Sprintf("粘贴的内容超过了 %s 的上限。", sizeLabel(c.MaxUpload)))
	}
	if f.OK() && strings.TrimSpace(page) == "" {
		f.Fail("page", "请粘贴文章的网页源代码或文字，或选择一个文件")
	}
	opts := c.Import
	opts.Now = c.Now()
	if u := strings.TrimSpace(f.Get("url")); u != "" {
		opts.URL = u
	}
	if s := strings.TrimSpace(f.Get("source")); s != "" {
		opts.Source = s
	}
	if opts.Source == "" {
		opts.Source = "揭阳市教育局"
	}
	if d := strings.TrimSpace(f.Get("date")); d != "" {
		day, err := content.ParseDate(d)
		if err != nil {
			f.Fail("date", "日期格式应为 2026-09-01")
		}
		opts.Date = day
	}
	if !f.OK() {
		f.Values.Del("page") // too large or empty: not echoed back
		if int64(len(page)) <= c.MaxUpload {
			f.Set("page", page)
		}
		c.Render(g, http.StatusUnprocessableEntity, "import", importData{MaxUpload: sizeLabel(c.MaxUpload)}, f)
		return
	}
	draft, err := importer.Import([]byte(page), opts)
	if err != nil {
		f.Fail("page", "没有找到像文章的内容："+err.Error())
		f.Set("page", page)
		c.Render(g, http.StatusUnprocessableEntity, "import", importData{MaxUpload: sizeLabel(c.MaxUpload)}, f)
		return
	}
	form := itemForm(draft.Notice)
	form.Set("source_page", page)
	d := reviewData{editData: c.editData(kinds[0], true, ""), Source: page, Warnings: draft.Warnings}
	d.Preview = c.preview(draft.Notice)
	// Show what the draft still needs (e.g. a link) beside its field now.
	if err := draft.Notice.Validate(); err != nil {
		form.FromError(err)
	}
	c.Render(g, http.StatusOK, "import_review", d, form)
}

// importPublish saves the reviewed draft as a new notice.
func (c *Console) importPublish(g *gin.Context) {
	f := NewForm(g)
	n, _ := parseItem(store.KindNotice, f, "").(*content.Notice)
	d := reviewData{editData: c.editData(kinds[0], true, ""), Source: f.Get("source_page")}
	if f.OK() {
		err := c.Store.PutNotice(g.Request.Context(), actor(g), n, store.Create)
		if err == nil {
			c.Flash(g, fmt.Sprintf("已发布通知 %s，所有服务器立即生效。", n.ID))
			g.Redirect(http.StatusSeeOther, BasePath+"/content/notices/"+n.ID)
			return
		}
		if !f.FromError(err) {
			c.Fail(g, err)
			return
		}
	}
	d.Preview = c.preview(n)
	c.Render(g, http.StatusUnprocessableEntity, "import_review", d, f)
}
