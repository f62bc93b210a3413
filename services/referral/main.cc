// kosapo-referral: see services/referral/referral_server.h and README.md.
#include "common/service/service_main.h"
#include "services/referral/referral_server.h"

int main(int argc, char** argv) {
  return kosapo::ServiceMain(argc, argv, kosapo::referral::Definition());
}
