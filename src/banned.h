/* banned.h - functions that make unbounded writes or hide state.
 * Included last by util.h, so any use in project code fails to compile. */
#ifndef TS_BANNED_H
#define TS_BANNED_H
#define TS_BANNED(f) sorry_##f##_is_banned_in_trailsight
#undef strcpy
#define strcpy(a, b) TS_BANNED(strcpy)
#undef strcat
#define strcat(a, b) TS_BANNED(strcat)
#undef sprintf
#define sprintf(...) TS_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) TS_BANNED(vsprintf)
#undef strtok
#define strtok(a, b) TS_BANNED(strtok)
#undef gets
#define gets(a) TS_BANNED(gets)
#endif
