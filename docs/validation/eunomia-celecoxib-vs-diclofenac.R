# Unadjusted Cox model of the Eunomia celecoxib-versus-diclofenac population (docs/validation.md), run by hand on a
# machine with R and the survival package; never by the tests or CI. Its input is the output of
# eunomia-celecoxib-vs-diclofenac.sql exported from psql (the SQL's header says how):
#   PGOPTIONS="-c search_path=cdm_eunomia" psql ... -c "\copy (<the SQL without its comments>) TO 'population.csv' WITH (FORMAT csv, HEADER)"
#   Rscript eunomia-celecoxib-vs-diclofenac.R population.csv
# Prints persons and events per arm, person-days, and the hazard ratio of celecoxib (treatment = 1) against diclofenac
# with its 95% confidence interval (Efron ties; the model-based variance, then the robust one clustered by person),
# to 6 decimals.
suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = TRUE)
file <- if (length(args) > 0) args[[1]] else "population.csv"
population <- read.csv(file)
stopifnot(all(population$time >= 1), all(population$event %in% c(0, 1)), !anyDuplicated(population$person_id))

for (arm in c(1, 0)) {
  rows <- population[population$treatment == arm, ]
  cat(sprintf("%-10s persons %d events %d person_days %d\n",
              if (arm == 1) "celecoxib" else "diclofenac", nrow(rows), sum(rows$event), sum(rows$time)))
}

fit <- coxph(Surv(time, event) ~ treatment, data = population, ties = "efron")
hr <- exp(coef(fit)[["treatment"]])
ci <- exp(confint(fit)["treatment", ])
cat(sprintf("hazard_ratio %.6f lower %.6f upper %.6f p %.6g\n", hr, ci[[1]], ci[[2]], summary(fit)$coefficients["treatment", "Pr(>|z|)"]))
robust <- coxph(Surv(time, event) ~ treatment + cluster(person_id), data = population, ties = "efron")
rci <- exp(coef(robust)[["treatment"]] + c(-1, 1) * qnorm(0.975) * sqrt(robust$var[1, 1]))
cat(sprintf("robust (clustered by person) lower %.6f upper %.6f\n", rci[[1]], rci[[2]]))
cat(sprintf("R %s, survival %s\n", getRversion(), packageVersion("survival")))
