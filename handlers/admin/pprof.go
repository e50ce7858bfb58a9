package admin

import (
	"net/http/pprof"

	"github.com/gin-gonic/gin"
)

// PprofPath is where Deps.Pprof puts Go's profiles, under BasePath.
const PprofPath = "/debug/pprof"

// mountPprof adds Go's runtime profiles (net/http/pprof) to the group
// Register returns, for publisher tokens only: a CPU profile costs the
// server a few percent while it runs and shows how the code spends time,
// which is for the bureau's IT, not for editors. Register mounts it only
// with Deps.Pprof (config admin.pprof). A CPU profile must be shorter than the server's write
// timeout (15 s): GET …/debug/pprof/profile?seconds=10.
func mountPprof(g *gin.RouterGroup) {
	p := g.Group(PprofPath, RequireRole(RolePublisher))
	p.GET("/", gin.WrapF(pprof.Index))
	p.GET("/cmdline", gin.WrapF(pprof.Cmdline))
	p.GET("/profile", gin.WrapF(pprof.Profile))
	p.GET("/symbol", gin.WrapF(pprof.Symbol))
	p.POST("/symbol", gin.WrapF(pprof.Symbol))
	p.GET("/trace", gin.WrapF(pprof.Trace))
	for _, name := range []string{"allocs", "block", "goroutine", "heap", "mutex", "threadcreate"} {
		p.GET("/"+name, gin.WrapH(pprof.Handler(name)))
	}
}
