package admin

// Exported for the tests of package admin_test, which run ensembles
// (server/ensemble imports this package).
var (
	MaskAll   = maskAll
	SortRuns  = sortRuns
	Blocks    = blocks
	NormDump  = normDump
	Counters  = counters
	Only39    = only39
	LearnerGs = learnerGauges
	LeaderGs  = leaderGauges
)
