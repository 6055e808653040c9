-- A binding's batch gives back the entries members had removed from their Message
-- Center and ends retention (rules M3, U2) for the members it spans. Only those few rows
-- qualify; without an index on them each batch walked all of its members' rows to find
-- none (a tenth of a bind at a million members).
CREATE INDEX associations_readded ON associations (contact_id, account_id) WHERE mc_removed_at IS NOT NULL OR retained_types <> 0;
