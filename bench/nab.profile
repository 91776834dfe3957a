# nab - the trailsight profile bench/nab.sh runs NAB's series with (rows
# instead of minutes; bench/nab.md). Only the detector's keys matter here;
# the real-valued model's settings are bench/nab.c's (--set).
name = nab
p_start = 5e-4
p_continue = 0.05
windows = 1, 4, 16, 32
min_duration = 1
end_after = 10
cooldown = 0
