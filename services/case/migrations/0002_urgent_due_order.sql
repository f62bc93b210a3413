-- The escalation list reads open reports in due order, first page only.
-- With the caller's areas as an array the (area, due time) index cannot
-- give that order without sorting every open report of the areas, which
-- grows with a holiday surge; this one is read in due order and stops at
-- the page.
CREATE INDEX urgent_reports_open_due ON urgent_reports (municipality, due_time, id)
  WHERE ack_time IS NULL;
