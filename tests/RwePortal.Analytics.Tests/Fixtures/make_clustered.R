# Reference for the clustered robust variance: persons repeating across rows (sequential emulated trials:
# 300 persons, each in up to 3 trials), weighted Cox with cluster(person_id) for Breslow and Efron, and the
# weighted Kaplan-Meier with id = person_id, robust = TRUE (log band) per arm.
# Usage: Rscript make_clustered.R <out_dir> <seed>   (writes rows.csv and expected.json)
suppressMessages({ library(survival); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; set.seed(as.integer(args[2]))
persons <- 300
frailty <- rnorm(persons, 0, 0.8)
rows <- do.call(rbind, lapply(seq_len(persons), function(p) {
  k <- sample(1:3, 1)
  x <- rbinom(k, 1, 0.5)
  rate <- 0.002 * exp(frailty[p] + log(0.7) * x)
  event_time <- ceiling(rexp(k, rate))
  censor_time <- ceiling(runif(k, 30, 720))
  data.frame(person_id = p, treatment = x, time = pmin(event_time, censor_time),
             event = as.integer(event_time <= censor_time),
             weight = round(runif(k, 0.3, 3), 4))
}))
write.csv(rows, file.path(dir, "rows.csv"), row.names = FALSE)
cox <- function(ties) {
  f <- coxph(Surv(time, event) ~ treatment, data = rows, weights = weight, cluster = person_id, ties = ties)
  r <- coxph(Surv(time, event) ~ treatment, data = rows, weights = weight, robust = TRUE, ties = ties)
  list(log_hr = unname(coef(f)), se_naive = sqrt(f$naive.var[1, 1]), se_cluster = sqrt(f$var[1, 1]),
       se_per_row = sqrt(r$var[1, 1]))
}
horizons <- c(30, 90, 180, 365, 540)
km <- function(arm) {
  d <- rows[rows$treatment == arm, ]
  f <- survfit(Surv(time, event) ~ 1, data = d, weights = weight, id = person_id, robust = TRUE, conf.type = "log")
  s <- summary(f, times = horizons, extend = TRUE)
  lapply(seq_along(horizons), function(i) list(time = horizons[i], survival = s$surv[i],
         std_err_log = s$std.err[i] / s$surv[i], lower = s$lower[i], upper = s$upper[i]))
}
res <- list(rows = nrow(rows), persons = length(unique(rows$person_id)),
            breslow = cox("breslow"), efron = cox("efron"), km_treated = km(1), km_control = km(0))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "expected.json"))
