package whatsapp

// Hooks for the external tests: both parse paths, to check they agree.
var (
	ParseFast    = parseFast
	ParseGeneral = parseGeneral
)
