/* err.c - messages and names for the codes listed in err.h. */
#include "err.h"

const char *ts_strerror(int code)
{
	switch (code) {
#define TS_ERR_MSG(name, val, msg) \
	case val:                  \
		return msg;
		TS_ERRORS(TS_ERR_MSG)
#undef TS_ERR_MSG
	}
	return "unknown error";
}

const char *ts_errname(int code)
{
	switch (code) {
	case TS_OK: return "ok";
	case TS_ENOMEM: return "nomem";
	case TS_EIO: return "io";
	case TS_EINVAL: return "inval";
	case TS_EJSON: return "json";
	case TS_ETOOBIG: return "toobig";
	case TS_EGZIP: return "gzip";
	case TS_ETRUNC: return "truncated";
	case TS_EUTF8: return "utf8";
	case TS_ENOTIME: return "no_event_time";
	case TS_EBADTIME: return "bad_event_time";
	case TS_EFIELD: return "bad_field";
	case TS_ERATIO: return "inflate_ratio";
	case TS_ECAP: return "cap";
	case TS_ESTORE: return "store";
	case TS_ENOTLOG: return "not_a_log";
	case TS_EDEPTH: return "depth";
	case TS_ETOKENS: return "tokens";
	case TS_EFUTURE: return "future_time";
	case TS_EUTF16: return "utf16";
	}
	return "unknown";
}
