"""Stats: counts and fatality sums of the filtered events over time and by group, and per place for maps."""
