package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
)

// Cookies the console sets (Path /console/, HttpOnly, SameSite=Strict,
// Secure over TLS or behind a proxy that says https).
const (
	cookieSession = "edubot_console"       // the server-side session's id
	cookieLogin   = "edubot_console_login" // the login form's CSRF token
	csrfField     = "_csrf"
	csrfHeader    = "X-CSRF-Token"
	ctxSession    = "edubot.console.session"
)

// Session is one logged-in person. It lives in Redis under a hash of its
// id (the cookie holds the id, never the token), so every replica knows it
// and a Redis dump does not hand out cookies.
type Session struct {
	id      string
	Name    string
	Role    string
	CSRF    string
	Created time.Time
	Flash   []string
}

func session(g *gin.Context) *Session {
	v, _ := g.Get(ctxSession)
	s, _ := v.(*Session)
	return s
}

// actor is the logged-in person's name ("" before login): audit's "who".
func actor(g *gin.Context) string {
	if s := session(g); s != nil {
		return s.Name
	}
	return ""
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("console: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Console) sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return c.Prefix + "{console}:sess:" + hex.EncodeToString(h[:16])
}

// secure reports whether the request came over TLS (directly or, as a
// proxy says, to the proxy): the cookies are then Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(g *gin.Context, name, value string, maxAge int) {
	http.SetCookie(g.Writer, &http.Cookie{
		Name: name, Value: value, Path: BasePath + "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure(g.Request), SameSite: http.SameSiteStrictMode,
	})
}

func (c *Console) loadSession(ctx context.Context, id string) (*Session, error) {
	if id == "" || len(id) > 100 {
		return nil, nil
	}
	key := c.sessionKey(id)
	pipe := c.Redis.Pipeline()
	get := pipe.HGetAll(ctx, key)
	pipe.Expire(ctx, key, c.SessionIdle) // sliding: every request keeps it alive
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("console: session: %w", err)
	}
	m := get.Val()
	if len(m) == 0 || m["name"] == "" {
		return nil, nil
	}
	created, _ := strconv.ParseInt(m["created"], 10, 64)
	s := &Session{id: id, Name: m["name"], Role: m["role"], CSRF: m["csrf"], Created: time.Unix(created, 0)}
	if time.Since(s.Created) > c.SessionMax {
		c.Redis.Del(ctx, key)
		return nil, nil
	}
	if f := m["flash"]; f != "" {
		_ = json.Unmarshal([]byte(f), &s.Flash)
	}
	return s, nil
}

// requireSession lets a logged-in request through. Without a session a
// page request goes to the login page (and comes back after it); any other
// request is refused the same way, to the login page.
func (c *Console) requireSession(g *gin.Context) {
	id, _ := g.Cookie(cookieSession)
	s, err := c.loadSession(g.Request.Context(), id)
	if err != nil {
		c.Fail(g, err)
		return
	}
	if s == nil {
		next := g.Request.URL.RequestURI()
		if g.Request.Method != http.MethodGet {
			// After login, return to the page the form was on, not to the action.
			next = refererPath(g.Request)
		}
		to := BasePath + "/login"
		if next != "" && next != BasePath+"/" {
			to += "?next=" + url.QueryEscape(next)
		}
		if g.GetHeader("HX-Request") != "" {
			g.Header("HX-Redirect", to)
			g.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		g.Redirect(http.StatusSeeOther, to)
		g.Abort()
		return
	}
	g.Set(ctxSession, s)
	g.Next()
}

// refererPath is the console path of the page a form was posted from, or "".
func refererPath(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host {
		return ""
	}
	return safeNext(u.RequestURI())
}

// safeNext keeps a return address inside the console (no open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, BasePath+"/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		strings.HasPrefix(next, BasePath+"/login") || strings.HasPrefix(next, BasePath+"/logout") {
		return ""
	}
	return next
}

// checkCSRF refuses a state-changing request without the session's token.
func (c *Console) checkCSRF(g *gin.Context) {
	switch g.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		g.Next()
		return
	}
	s := session(g)
	got := g.GetHeader(csrfHeader)
	if got == "" {
		var err error
		if got, err = formValue(g, csrfField); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				c.errorPage(g, http.StatusRequestEntityTooLarge, "内容太大",
					fmt.Sprintf("提交的内容超过了 %s 的上限，请缩小文件或分几次提交。", sizeLabel(c.MaxUpload)))
				return
			}
		}
	}
	if s == nil || s.CSRF == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
		c.errorPage(g, http.StatusForbidden, "请求被拒绝", "这个表单已过期或不是从控制台提交的（CSRF 校验失败）。请返回上一页，刷新后再试。")
		return
	}
	g.Next()
}

// formValue reads one posted field (multipart forms too); the error says
// why the body could not be read (e.g. *http.MaxBytesError).
func formValue(g *gin.Context, name string) (string, error) {
	if g.ContentType() == "multipart/form-data" {
		if g.Request.MultipartForm == nil {
			if err := g.Request.ParseMultipartForm(1 << 20); err != nil {
				return "", err
			}
		}
		if v := g.Request.MultipartForm.Value[name]; len(v) > 0 {
			return v[0], nil
		}
		return "", nil
	}
	if err := g.Request.ParseForm(); err != nil {
		return "", err
	}
	return g.Request.PostForm.Get(name), nil
}

func (c *Console) requireRole(role string) gin.HandlerFunc {
	if roleRank[role] == 0 {
		panic("console: unknown role " + role) // a programming error, at start-up
	}
	return func(g *gin.Context) {
		s := session(g)
		if s == nil {
			c.errorPage(g, http.StatusUnauthorized, "请先登录", "请先登录。")
			return
		}
		if !hasRole(s.Role, role) {
			c.errorPage(g, http.StatusForbidden, "没有权限",
				fmt.Sprintf("您的角色是「%s」，这项操作需要「%s」角色。请联系管理员。", roleLabel(s.Role), roleLabel(role)))
			return
		}
		g.Next()
	}
}

// Flash queues a message for the next page this person sees.
func (c *Console) Flash(g *gin.Context, msg string) {
	s := session(g)
	if s == nil {
		return
	}
	s.Flash = append(s.Flash, msg)
	b, _ := json.Marshal(s.Flash)
	if err := c.Redis.HSet(g.Request.Context(), c.sessionKey(s.id), "flash", b).Err(); err != nil {
		c.log.Warn("console: flash", "err", err)
	}
}

func (c *Console) takeFlash(g *gin.Context, s *Session) []string {
	if len(s.Flash) == 0 {
		return nil
	}
	out := s.Flash
	s.Flash = nil
	if err := c.Redis.HDel(g.Request.Context(), c.sessionKey(s.id), "flash").Err(); err != nil {
		c.log.Warn("console: flash", "err", err)
	}
	return out
}

// loginData is the login page's data.
type loginData struct {
	Next  string
	Token string // the login form's CSRF token
	Error string
}

func (c *Console) loginPage(g *gin.Context) {
	next := safeNext(g.Query("next"))
	// Already logged in: go where the person wanted.
	if id, _ := g.Cookie(cookieSession); id != "" {
		if s, err := c.loadSession(g.Request.Context(), id); err == nil && s != nil {
			if next == "" {
				next = BasePath + "/"
			}
			g.Redirect(http.StatusSeeOther, next)
			return
		}
	}
	c.renderLogin(g, http.StatusOK, next, "", &Form{})
}

func (c *Console) renderLogin(g *gin.Context, status int, next, msg string, f *Form) {
	tok := randomToken()
	setCookie(g, cookieLogin, tok, 3600)
	c.Render(g, status, "login", loginData{Next: next, Token: tok, Error: msg}, f)
}

func (c *Console) loginFailKeys(ip, name string) [2]string {
	return [2]string{c.Prefix + "{console}:loginfail:ip:" + ip, c.Prefix + "{console}:loginfail:name:" + name}
}

// login checks name and token against the admin accounts. Failures are
// counted per client IP and per name (fixed windows in Redis, so every
// replica counts together), audited, and refused beyond LoginLimit.
func (c *Console) login(g *gin.Context) {
	ctx := g.Request.Context()
	g.Request.Body = http.MaxBytesReader(g.Writer, g.Request.Body, 16<<10)
	f := NewForm(g)
	next := safeNext(f.Get("next"))
	name := strings.TrimSpace(f.Get("name"))
	token := f.Get("token")
	f.Values.Del("token") // never echoed back

	want, _ := g.Cookie(cookieLogin)
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(f.Get(csrfField))) != 1 {
		c.renderLogin(g, http.StatusForbidden, next, "登录页面已过期，请重新输入后登录。", f)
		return
	}
	if name == "" {
		f.Fail("name", "请填写账号名称")
	}
	if strings.TrimSpace(token) == "" {
		f.Fail("token", "请填写令牌")
	}
	if !f.OK() {
		c.renderLogin(g, http.StatusUnprocessableEntity, next, "", f)
		return
	}
	if len(name) > 64 {
		name = name[:64]
	}
	ip := g.ClientIP()
	keys := c.loginFailKeys(ip, name)
	counts, err := c.Redis.MGet(ctx, keys[0], keys[1]).Result()
	if err != nil {
		c.Fail(g, fmt.Errorf("console: login limit: %w", err))
		return
	}
	for _, v := range counts {
		if s, _ := v.(string); s != "" {
			if n, _ := strconv.Atoi(s); n >= c.LoginLimit {
				c.audit(g, store.AuditEntry{Actor: name, Action: "login-refused", Kind: "console", After: map[string]string{"ip": ip}})
				g.Header("Retry-After", strconv.Itoa(int(c.LoginWindow.Seconds())))
				c.renderLogin(g, http.StatusTooManyRequests, next,
					fmt.Sprintf("登录失败次数过多，请 %d 分钟后再试。", int(c.LoginWindow.Minutes())), f)
				return
			}
		}
	}
	id, ok := c.auth.Lookup(token)
	if !ok || id.Name != name {
		pipe := c.Redis.Pipeline()
		for _, k := range keys {
			pipe.Incr(ctx, k)
			pipe.ExpireNX(ctx, k, c.LoginWindow)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			c.log.Warn("console: login limit", "err", err)
		}
		c.audit(g, store.AuditEntry{Actor: name, Action: "login-failed", Kind: "console", After: map[string]string{"ip": ip}})
		f.Fail("token", "账号名称或令牌不对")
		c.renderLogin(g, http.StatusUnauthorized, next, "", f)
		return
	}
	s := &Session{id: randomToken(), Name: id.Name, Role: id.Role, CSRF: randomToken(), Created: time.Now()}
	key := c.sessionKey(s.id)
	pipe := c.Redis.TxPipeline()
	pipe.HSet(ctx, key, "name", s.Name, "role", s.Role, "csrf", s.CSRF, "created", s.Created.Unix())
	pipe.Expire(ctx, key, c.SessionIdle)
	pipe.Del(ctx, keys[1]) // a good login clears the name's failures (not the IP's)
	if _, err := pipe.Exec(ctx); err != nil {
		c.Fail(g, fmt.Errorf("console: new session: %w", err))
		return
	}
	c.audit(g, store.AuditEntry{Actor: s.Name, Action: "login", Kind: "console", After: map[string]string{"ip": ip, "role": s.Role}})
	setCookie(g, cookieSession, s.id, int(c.SessionMax.Seconds()))
	setCookie(g, cookieLogin, "", -1)
	if next == "" {
		next = BasePath + "/"
	}
	g.Redirect(http.StatusSeeOther, next)
}

func (c *Console) logout(g *gin.Context) {
	if s := session(g); s != nil {
		if err := c.Redis.Del(g.Request.Context(), c.sessionKey(s.id)).Err(); err != nil {
			c.Fail(g, fmt.Errorf("console: logout: %w", err))
			return
		}
		c.audit(g, store.AuditEntry{Actor: s.Name, Action: "logout", Kind: "console"})
	}
	setCookie(g, cookieSession, "", -1)
	g.Redirect(http.StatusSeeOther, BasePath+"/login")
}

// audit records a console event in the content store's audit log; a
// failure is logged (the action itself already happened or was refused).
func (c *Console) audit(g *gin.Context, e store.AuditEntry) {
	if err := c.Store.Audit().Record(g.Request.Context(), e); err != nil {
		c.log.Warn("console: audit", "action", e.Action, "err", err)
	}
}

// Identity is the logged-in person (zero before login).
func Identity(g *gin.Context) admin.Identity {
	if s := session(g); s != nil {
		return admin.Identity{Name: s.Name, Role: s.Role}
	}
	return admin.Identity{}
}
