// Command echo is the benchmark's reference: a bare gin + silenceper/wechat
// v2.1.14 webhook in safe mode that answers every message with one fixed
// text. It does what every WeChat server must do (signature, decryption,
// XML, encryption of the reply) and nothing else, so edubot's speed is
// reported as a ratio to it (see bench/loadbench).
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/officialaccount"
	oaconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/sirupsen/logrus"
)

// The development keys edubot uses when none are configured
// (internal/config.DevToken, DevAESKey, DevAppID): the load client signs
// with them.
const (
	devToken  = "edubot-dev-token"
	devAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	devAppID  = "wxedubotdev00000"
)

// reply is the fixed answer, about as long as a short edubot answer.
const reply = "开学时间：2027年2月24日（星期三）报到，2月25日正式上课。详情请见教育局通知。"

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address (loopback only)")
	flag.Parse()
	// silenceper logs every message through the global logrus logger.
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.ErrorLevel)
	gin.SetMode(gin.ReleaseMode)

	oa := officialaccount.NewOfficialAccount(&oaconfig.Config{
		AppID: devAppID, Token: devToken, EncodingAESKey: devAESKey, Cache: cache.NewMemory(),
	})
	r := gin.New()
	r.Use(gin.Recovery())
	handle := func(c *gin.Context) {
		srv := oa.GetServer(c.Request, c.Writer)
		srv.SetMessageHandler(func(*message.MixMessage) *message.Reply {
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(reply)}
		})
		if err := srv.Serve(); err != nil {
			c.Status(http.StatusBadRequest)
			return
		}
		if err := srv.Send(); err != nil {
			c.Status(http.StatusInternalServerError)
		}
	}
	r.GET("/wechat", handle)
	r.POST("/wechat", handle)
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	log.SetOutput(os.Stderr)
	if err := r.Run(*addr); err != nil {
		log.Fatal(err)
	}
}
