// Package console is the staff console: server-rendered pages in Chinese
// under /console/ for the people who run the account — home (today at a
// glance), content (notices, FAQs, rules, synonyms), import, the questions
// people asked, the audit log, and the pages other files add. Templates
// and static files are embedded; the only script is a vendored htmx.
//
// # Adding a page
//
// A page lives in its own file of this package and registers itself in
// init, so adding one edits no other file:
//
//	func init() {
//		addPage(Page{
//			Nav: "留言", Path: "/notes", Role: admin.RoleEditor, Order: 50, // menu entry ("" Nav = none)
//			Mount: func(c *Console, r *Routes) {
//				r.GET("/notes", admin.RoleEditor, c.notesList)
//				r.POST("/notes/:id/reply", admin.RoleEditor, c.noteReply)
//			},
//		})
//	}
//
// Every route is registered through Routes with the role it needs: the
// person must be logged in (else: GET → the login page, then back; other
// methods → 303 to login), have the role (else a 403 page), and every
// non-GET request must carry the session's CSRF token (else a 403 page).
// Nothing under /console/ except the login page and /console/static/ is
// reachable otherwise; TestEveryRouteNeedsLogin walks the router to prove it.
//
// # Rendering
//
// A page's template is templates/NAME.html; it defines "title" and
// "content" (both rendered inside templates/layout.html), and may use the
// shared partials in templates/_*.html. Handlers call
//
//	c.Render(g, http.StatusOK, "notes", data, form) // form may be nil
//
// The template's dot is a *View: .Data is data, .Form the form, .Me the
// person (.Me.Name, .Me.Role), .CSRF the token. html/template escapes
// everything; never mark content as template.HTML.
//
// # Forms, CSRF, field errors, flash
//
// Every <form method="post"> includes {{template "csrf" $}} (a hidden
// _csrf input); htmx requests send the token in the X-CSRF-Token header
// (set once on <body>). To handle a POST: f := NewForm(g) reads the posted
// values; f.Fail("title", "必填") records a message for a field; when
// !f.OK(), render the same page again with status 422 and f — the
// template shows f.Get("title") as the input's value (what was typed is
// kept) and f.Err("title") beside it (a <p class="err" id="err-title">, see
// the "field" partial). On success: c.Flash(g, "已保存") then
// g.Redirect(http.StatusSeeOther, …); the next page shows the flash once.
// Errors the store returns (*content.FieldError) map to a field with
// f.FromError(err). Unexpected errors: c.Fail(g, err) (logged, a 500 page
// without details).
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/broadcast"
	"github.com/gdjysjyj/edubot/content/importer"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
	securehdr "github.com/gdjysjyj/edubot/handlers/secure"
	"github.com/gdjysjyj/edubot/stats"
)

// BasePath is where the console is mounted.
const BasePath = "/console"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Bot answers as the webhook would (*bot.Bot): Handle a message from a
// (test) user, or Ask a question without remembering or recording it (the
// console re-runs a question after staff answered it).
type Bot interface {
	Handle(ctx context.Context, m bot.Message) bot.Reply
	Ask(ctx context.Context, text string) bot.Reply
}

// Deps is what the console needs. Store, Stats, Redis and Engine are required.
type Deps struct {
	Store  *store.Store
	Stats  *stats.Recorder
	Daily  *stats.Daily // per-day counts by outcome and questions as typed; nil = home shows what Stats has
	Engine *search.Engine
	Bot    Bot // nil = questions are re-run through Engine only
	Redis  redis.UniversalClient
	Prefix string   // Redis key prefix (config Redis.Prefix)
	Tokens []string // config Admin.Tokens: "name:role:token", the admin API's accounts
	Logger *slog.Logger
	// Now is "today" for content (expired notices, drafts' dates); nil = time.Now.
	Now func() time.Time
	// Location of the bureau's days; nil = Asia/Shanghai.
	Location *time.Location
	// Import tunes article import (as the admin API's).
	Import importer.Options
	// SessionIdle ends a session unused this long (default 2h); SessionMax
	// ends any session this long after login (default 12h).
	SessionIdle, SessionMax time.Duration
	// MaxUpload bounds an uploaded or pasted article (default 2 MiB).
	MaxUpload int64
	// LoginLimit is how many failed logins a client IP, and separately a
	// name, may make in LoginWindow before logins are refused (default 5 in 15m).
	LoginLimit  int
	LoginWindow time.Duration

	// Pages of notes.go, tryit.go and broadcasts.go.
	Notes      *admin.NotesDeps   // messages left for staff; nil = the page says it is off
	TryBot     Bot                // a bot that records no statistics, for 试一试; nil = Bot
	Broadcasts *broadcast.Service // nil = broadcasts are off (no WeChat app secret)
	// PreviewOpenIDs fill the broadcast preview's test phones (config
	// broadcast.preview_openids).
	PreviewOpenIDs []string
}

// Console is the mounted console; page handlers are its methods.
type Console struct {
	Deps
	log   *slog.Logger
	auth  *admin.Auth
	pages map[string]*template.Template
	nav   []Page
	// routes is every route behind login with the role it needs, as
	// registered; tests walk it to prove each role is enforced.
	routes []RouteRole
}

// RouteRole is one console route and the role it needs.
type RouteRole struct {
	Method, Path, Role string // Path as gin has it, e.g. /console/broadcasts/:id
}

// RouteRoles lists the routes behind login, in registration order.
func (c *Console) RouteRoles() []RouteRole { return slices.Clone(c.routes) }

// Page is one entry of the console: its menu link and its routes.
type Page struct {
	Nav   string // menu label; "" = not in the menu
	Path  string // menu link, relative to /console (e.g. "/notes")
	Role  string // the menu shows the link to this role or greater
	Order int    // menu position (smaller first)
	Mount func(c *Console, r *Routes)
}

var (
	pagesMu sync.Mutex
	pages   []Page
)

// addPage registers a page; call it from init.
func addPage(p Page) {
	pagesMu.Lock()
	defer pagesMu.Unlock()
	pages = append(pages, p)
}

// Routes registers the console's routes, each with the role it needs.
type Routes struct {
	c *Console
	g *gin.RouterGroup
}

func (r *Routes) handle(method, path, role string, h gin.HandlerFunc) {
	r.g.Handle(method, path, r.c.requireRole(role), h)
	r.c.routes = append(r.c.routes, RouteRole{Method: method, Path: r.g.BasePath() + path, Role: role})
}

// GET registers a page for people with role (or greater).
func (r *Routes) GET(path, role string, h gin.HandlerFunc) { r.handle(http.MethodGet, path, role, h) }

// POST registers an action for people with role (or greater); the CSRF
// token is checked before h runs.
func (r *Routes) POST(path, role string, h gin.HandlerFunc) { r.handle(http.MethodPost, path, role, h) }

// Register mounts the console on r under /console.
func Register(r *gin.Engine, d Deps) (*Console, error) {
	if d.Store == nil || d.Stats == nil || d.Redis == nil || d.Engine == nil {
		return nil, errors.New("console: Deps.Store, Stats, Redis and Engine are required")
	}
	auth, err := admin.NewAuth(d.Tokens)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		d.Location = loc
	}
	if d.SessionIdle <= 0 {
		d.SessionIdle = 2 * time.Hour
	}
	if d.SessionMax <= 0 {
		d.SessionMax = 12 * time.Hour
	}
	if d.MaxUpload <= 0 {
		d.MaxUpload = 2 << 20
	}
	if d.LoginLimit <= 0 {
		d.LoginLimit = 5
	}
	if d.LoginWindow <= 0 {
		d.LoginWindow = 15 * time.Minute
	}
	c := &Console{Deps: d, log: d.Logger, auth: auth}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}

	pagesMu.Lock()
	all := append([]Page(nil), pages...)
	pagesMu.Unlock()
	sort.SliceStable(all, func(i, j int) bool { return all[i].Order < all[j].Order })
	for _, p := range all {
		if p.Nav != "" {
			c.nav = append(c.nav, p)
		}
	}

	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	fileServer := http.StripPrefix(BasePath+"/static/", http.FileServer(http.FS(static)))
	r.GET(BasePath+"/static/*file", func(g *gin.Context) {
		g.Header("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(g.Writer, g.Request)
	})
	r.GET(BasePath, func(g *gin.Context) { g.Redirect(http.StatusMovedPermanently, BasePath+"/") })
	pub := r.Group(BasePath, c.secureHeaders)
	pub.GET("/login", c.loginPage)
	pub.POST("/login", c.login)

	// Imports upload files up to MaxUpload; the rest of a form is small.
	g := r.Group(BasePath, c.secureHeaders, securehdr.CapBody(c.MaxUpload+64<<10), c.requireSession, c.checkCSRF)
	routes := &Routes{c: c, g: g}
	routes.POST("/logout", admin.RoleEditor, c.logout)
	for _, p := range all {
		p.Mount(c, routes)
	}
	// An unknown console address gets the console's own 404 page, and an
	// unknown admin API address a JSON error like the API's others, not
	// gin's plain text; other paths keep gin's default. (The engine has
	// one NoRoute: nothing else sets it.)
	r.NoRoute(func(g *gin.Context) {
		p := g.Request.URL.Path
		if p == BasePath || strings.HasPrefix(p, BasePath+"/") {
			c.secureHeaders(g)
			c.NotFound(g, "没有这个页面。请从菜单进入，或回到首页。")
			return
		}
		if p == admin.BasePath || strings.HasPrefix(p, admin.BasePath+"/") {
			securehdr.Headers(securehdr.CSPAPI)(g)
			g.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "no such admin API route: " + g.Request.Method + " " + p})
			return
		}
		g.String(http.StatusNotFound, "404 page not found")
	})
	if auth.Len() == 0 {
		d.Logger.Warn("staff console: no admin tokens configured (EDUBOT_ADMIN_TOKENS); nobody can log in")
	}
	return c, nil
}

// secureHeaders keeps the console's pages out of frames and caches.
func (c *Console) secureHeaders(g *gin.Context) {
	h := g.Writer.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: http: data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
	g.Next()
}

// View is the dot of every template.
type View struct {
	Title  string
	Me     admin.Identity
	CSRF   string
	Nav    []Page
	Active string // path of the current page, for the menu
	Flash  []string
	Form   *Form
	Data   any
	Today  time.Time
}

// RoleLabel is the Chinese name of the person's role.
func (v *View) RoleLabel() string { return roleLabel(v.Me.Role) }

// Can reports whether the person has role (or greater).
func (v *View) Can(role string) bool { return hasRole(v.Me.Role, role) }

func roleLabel(r string) string {
	switch r {
	case admin.RolePublisher:
		return "发布者"
	case admin.RoleEditor:
		return "编辑"
	}
	return r
}

var roleRank = map[string]int{admin.RoleEditor: 1, admin.RolePublisher: 2}

func hasRole(have, need string) bool { return roleRank[have] >= roleRank[need] && roleRank[need] > 0 }

// Render writes the page NAME (templates/NAME.html) inside the layout.
func (c *Console) Render(g *gin.Context, status int, name string, data any, form *Form) {
	t := c.pages[name]
	if t == nil {
		c.Fail(g, fmt.Errorf("console: no template %q", name))
		return
	}
	if form == nil {
		form = &Form{}
	}
	v := &View{Form: form, Data: data, Today: c.Now().In(c.Location)}
	if s := session(g); s != nil {
		v.Me = admin.Identity{Name: s.Name, Role: s.Role}
		v.CSRF = s.CSRF
		for _, p := range c.nav {
			if hasRole(s.Role, p.Role) {
				v.Nav = append(v.Nav, p)
			}
		}
		v.Flash = c.takeFlash(g, s)
	}
	v.Active = strings.TrimPrefix(g.Request.URL.Path, BasePath)
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.Fail(g, fmt.Errorf("console: render %s: %w", name, err))
		return
	}
	g.Data(status, "text/html; charset=utf-8", []byte(buf.String()))
}

// RenderFragment writes one shared block (a templates/_*.html define, e.g.
// "phone") without the layout: the answer to an htmx request.
func (c *Console) RenderFragment(g *gin.Context, status int, block string, data any) {
	t := c.pages["error"]
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		c.Fail(g, fmt.Errorf("console: render %s: %w", block, err))
		return
	}
	g.Data(status, "text/html; charset=utf-8", []byte(buf.String()))
}

// Fail logs an unexpected error once and shows a page without details.
func (c *Console) Fail(g *gin.Context, err error) {
	c.log.Error("console", "method", g.Request.Method, "path", g.FullPath(), "actor", actor(g), "err", err)
	c.errorPage(g, http.StatusInternalServerError, "出错了", "服务暂时出错，请稍后再试。详情已写入服务日志。")
}

// errorPage shows a short message with a way back.
func (c *Console) errorPage(g *gin.Context, status int, title, msg string) {
	t := c.pages["error"]
	v := &View{Title: title, Form: &Form{}, Data: map[string]string{"Title": title, "Message": msg}}
	if s := session(g); s != nil {
		v.Me = admin.Identity{Name: s.Name, Role: s.Role}
		v.CSRF = s.CSRF
	}
	var buf strings.Builder
	if t == nil || t.ExecuteTemplate(&buf, "layout", v) != nil {
		g.AbortWithStatus(status)
		return
	}
	g.Abort()
	g.Data(status, "text/html; charset=utf-8", []byte(buf.String()))
}

// NotFound shows the 404 page.
func (c *Console) NotFound(g *gin.Context, what string) {
	c.errorPage(g, http.StatusNotFound, "找不到", what)
}

func (c *Console) parseTemplates() error {
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("console: templates: %w", err)
	}
	var shared []string
	var names []string
	for _, e := range entries {
		base := strings.TrimSuffix(strings.TrimPrefix(e, "templates/"), ".html")
		switch {
		case base == "layout" || strings.HasPrefix(base, "_"):
			shared = append(shared, e)
		default:
			names = append(names, base)
		}
	}
	c.pages = map[string]*template.Template{}
	for _, n := range names {
		t, err := template.New(n).Funcs(funcs).ParseFS(templateFS, append(shared, "templates/"+n+".html")...)
		if err != nil {
			return fmt.Errorf("console: template %s: %w", n, err)
		}
		c.pages[n] = t
	}
	return nil
}
