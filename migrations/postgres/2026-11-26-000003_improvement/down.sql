DROP TABLE recognitions;
DROP TABLE plan_reviews;
DROP TABLE plan_actions;
DROP TABLE improvement_plans;
