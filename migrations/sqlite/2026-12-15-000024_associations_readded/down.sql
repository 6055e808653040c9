DROP INDEX associations_readded;
