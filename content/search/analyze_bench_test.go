package search

import (
	"testing"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
)

// benchMessages are messages as parents type them: greetings, long
// stories, voice-typed runs without punctuation, dates, relative terms,
// grades and traditional characters. Written for the benchmark, not taken
// from any evaluation set.
var benchMessages = []string{
	"你好",
	"老师您好，在吗？",
	"谢谢老师",
	"孩子下学期读初二，转学要办什么手续",
	"请问今年小升初什么时候可以网上报名",
	"我家小孩今年六岁了明年九月能不能上一年级啊我们是外地户口在这边租房住了三年",
	"尊敬的领导您好，我是一名家长，想问一下秋季开学是几号，孩子在城区读小三",
	"6月7号中考吗",
	"2026年7月15日以后还能补报名吗",
	"二〇二六年高考成绩几号出来",
	"最近有没有新出的关于午托的通知",
	"這學期什麼時候放寒假？學校有沒有通知",
	"高三的孩子体育免考要医院证明吗",
	"我们家闺女在实验中学读初一，想转到普宁二中可以吗",
	"请问一下积分入学要社保证明吗还是居住证就可以",
	"学校饭堂伙食费一个月多少钱怎么交",
	"老师我想咨询一下幼儿园入园的年龄要求是满三周岁吗",
	"麻烦问一下 成人高考 和 自考 有什么区别",
	"打扰一下，这周有什么新的公告",
	"你是机器人吗",
	"驾校报名在哪里",
	"我孩子期末考试成绩多少分怎么查",
	"九年级的学生下个学期还要交学费不",
	"惠来县的学位够不够 今年是不是要摇号",
	"上个月3号发的那个关于校服的通知原文在哪里看",
	"读小一要准备什么材料 户口本 出生证明 还有什么",
	"娃今年高二想问问学考合格考是在几月份考",
	"孩子发烧请假了好几天 回学校要开什么证明吗 班主任说要问教育局 我也不知道找谁 就想问问你们",
	"请问初中学业水平考试报名时间",
	"春季学期开学时间定了没有",
	"本人是学校的教职工，想了解一下今年教师招聘的通知",
	"yinianji baoming",
}

// BenchmarkAnalyze analyses varied messages against the sample set: the
// per-message cost of understanding a question, before any matching.
//
//	go test -run '^$' -bench BenchmarkAnalyze -benchmem ./content/search/
func BenchmarkAnalyze(b *testing.B) {
	set, err := content.Load(sample.FS())
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(set, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.AnalyzeAt(benchMessages[i%len(benchMessages)], testNow)
		i++
	}
}
