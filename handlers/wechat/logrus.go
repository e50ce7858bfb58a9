package wechat

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/sirupsen/logrus"
)

// QuietLogrus tames the global logrus logger that silenceper logs through:
// importing silenceper's root package sets it to Debug on stdout, and at
// that level it logs whole decrypted messages with openids. After this
// call logrus drops everything below Warn and sends the rest to log as
// records with the attribute source=silenceper. Call it once in main,
// before anything uses the SDK.
func QuietLogrus(log *slog.Logger) {
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetOutput(io.Discard)
	logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{})
	logrus.AddHook(slogHook{log})
}

type slogHook struct{ log *slog.Logger }

func (slogHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h slogHook) Fire(e *logrus.Entry) error {
	level := slog.LevelWarn
	if e.Level <= logrus.ErrorLevel {
		level = slog.LevelError
	}
	attrs := make([]any, 0, 2+2*len(e.Data))
	attrs = append(attrs, "source", "silenceper")
	for k, v := range e.Data {
		attrs = append(attrs, k, fmt.Sprint(v))
	}
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	h.log.Log(ctx, level, e.Message, attrs...)
	return nil
}
