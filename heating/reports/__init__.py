"""Running the programme: progress against the target, overdue work, the monthly ranking
report (月度通报) and the county's programme settings (see docs/user-guide.md)."""
