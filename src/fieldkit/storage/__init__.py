"""The encrypted profile: vault, SQLCipher engine, tables, repositories, file store, migrations."""
