"""Getting files, for every data source: URLs (urls), HTTP and file: downloads with retries,
resume, deadlines and MD5 checks (fetch), and safe, checked archive extraction (archives)."""
