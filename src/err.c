/* err.c - messages and names for the codes listed in err.h, both generated
 * from its one table: adding an error is one line there. */
#include "err.h"

const char *ts_strerror(int code)
{
	switch (code) {
#define TS_ERR_MSG(name, val, str, msg) \
	case val:                       \
		return msg;
		TS_ERRORS(TS_ERR_MSG)
#undef TS_ERR_MSG
	}
	return "unknown error";
}

const char *ts_errname(int code)
{
	switch (code) {
#define TS_ERR_NAME(name, val, str, msg) \
	case val:                        \
		return str;
		TS_ERRORS(TS_ERR_NAME)
#undef TS_ERR_NAME
	}
	return "unknown";
}
