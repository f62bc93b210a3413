// kosapo-referral: see services/referral/referral_server.h and README.md.
#include "services/referral/referral_server.h"

int main(int argc, char** argv) {
  return kosapo::server::ServiceMain(argc, argv, kosapo::referral::Descriptor(),
                                     kosapo::referral::Migrations(),
                                     kosapo::referral::Setup);
}
