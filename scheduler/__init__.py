"""APScheduler jobs that run crawl -> match -> digest on their cron times."""
