"""Units and constants: the one place for conversions between days and years.

Times in the model are days from day 0 (the scenario's ``run.start_date``); rates are per year;
money is in the scenario's currency and price year.
"""

DAYS_PER_YEAR = 365.25  # Julian year: the mean length of a calendar year over four years
