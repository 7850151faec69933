package report

// Severity is how much a finding matters. The rules table gives each rule
// one; the report and its formats map it (SARIF levels, JUnit, Code
// Quality) and sort by it, most severe first.
type Severity string

// Severities, most severe first.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Category is the kind of leftover a finding is: the rules table groups
// its rules by them (package rules lists them in table order).
type Category string

// Categories, in the rules table's order.
const (
	CategorySecret       Category = "secret"
	CategoryVCS          Category = "vcs"
	CategoryToolchain    Category = "toolchain"
	CategoryPackageCache Category = "package-cache"
	CategoryBuildCache   Category = "build-cache"
	CategoryDevFiles     Category = "dev-files"
	CategorySource       Category = "source"
	CategoryWaste        Category = "waste"
	CategoryConfig       Category = "config"
)
