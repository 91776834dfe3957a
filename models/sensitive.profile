# sensitive - chosen by bench/sweep.sh on the tuning corpora: loosest p_start with precision >= 0.9.
# Setting: p_start = 1e-5 (P 0.907, R 1.000, F1 0.951 on those corpora).
name = sensitive
p_continue = 0.01
# Trailing windows judged each minute (1..32 minutes, up to 6 of them).
windows = 1, 2, 5, 15, 30

# Minutes the start condition must hold before a Start is written.
min_duration = 1
# Normal minutes in a row that end an episode.
end_after = 5
# Minutes after an End before the same series may Start again.
cooldown = 10

# Call-rate spikes: at least min_count events in the unusual window and at
# least min_ratio times the expected count.
min_count = 20
min_ratio = 2
# Call-rate drops: judged only where the expected rate is at least
# drop_min_rate events per minute, and the count fell to at most
# drop_max_ratio of the expectation (0.4: a partial drop to 40 % that is
# statistically clear is found; a drop's End is dated at its recovery).
drop_min_rate = 5
drop_max_ratio = 0.4

# Error rate: at least min_errors errors in the unusual window, making up at
# least error_min_fraction of the calls and error_min_ratio times the
# baseline error fraction.
min_errors = 5
error_min_fraction = 0.05
error_min_ratio = 3

# Days of history needed before a series is judged, and the trailing window
# the baseline learns from (AWS uses 28 days).
warmup_days = 7
history_days = 28
# Minutes in a Start event's insight window (1 or 5).
insight_minutes = 1
# Pull of hour-of-day rates toward the day's level, as a prior worth this
# many minutes of observations (matters only where counts are thin).
shrink = 30
p_start = 1e-5
